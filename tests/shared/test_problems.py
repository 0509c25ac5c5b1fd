"""Problem details: every error renders as the same RFC 9457 body, with a stable code."""

from shared.problems import (
    PROBLEM_MEDIA_TYPE,
    ConflictError,
    FieldError,
    NotFoundError,
    Problem,
    ProblemError,
    ValidationProblem,
    problem_responses,
    problem_type,
)


class WidgetJammedError(ConflictError):
    code = "widget_jammed"
    title = "The widget is jammed"


def test_a_problem_renders_type_title_status_detail_code_and_request_id() -> None:
    body = WidgetJammedError("Widget 7 is jammed.").to_problem("req-1")

    assert body == {
        "type": "urn:market:problem:widget_jammed",
        "title": "The widget is jammed",
        "status": 409,
        "detail": "Widget 7 is jammed.",
        "code": "widget_jammed",
        "request_id": "req-1",
    }
    Problem.model_validate(body)


def test_without_a_detail_the_title_stands_in() -> None:
    body = NotFoundError().to_problem(None)

    assert body["detail"] == body["title"] == "Not found"
    assert body["request_id"] is None
    assert "errors" not in body


def test_field_errors_and_extra_members_are_rendered() -> None:
    error = ValidationProblem(
        "Bad fields.",
        errors=[FieldError(loc=["body", "cycles", 0, "count"], msg="too big", type="less_than")],
        retry_after_seconds=3,
    )

    body = error.to_problem("req-2")

    assert body["errors"] == [
        {"loc": ["body", "cycles", 0, "count"], "msg": "too big", "type": "less_than"}
    ]
    assert body["retry_after_seconds"] == 3
    assert body["status"] == 422
    assert body["code"] == "validation_error"


def test_an_empty_errors_list_is_still_rendered() -> None:
    assert ValidationProblem(errors=[]).to_problem(None)["errors"] == []


def test_the_base_error_is_an_opaque_500() -> None:
    body = ProblemError().to_problem("req-3")

    assert (body["status"], body["code"]) == (500, "internal_error")


def test_the_type_uri_is_unique_per_code() -> None:
    assert problem_type("a") != problem_type("b")
    assert problem_type("draft_locked") == "urn:market:problem:draft_locked"


def test_headers_are_kept_for_the_response() -> None:
    error = ProblemError(headers={"WWW-Authenticate": "Bearer"})

    assert error.headers == {"WWW-Authenticate": "Bearer"}
    assert "WWW-Authenticate" not in error.to_problem(None)


def test_openapi_responses_group_codes_by_status_with_examples() -> None:
    responses = problem_responses(NotFoundError, ConflictError, WidgetJammedError)

    assert sorted(responses) == [404, 409]
    conflict = responses[409]
    assert "`conflict`" in conflict["description"]
    assert "`widget_jammed`" in conflict["description"]
    examples = conflict["content"][PROBLEM_MEDIA_TYPE]["examples"]
    assert set(examples) == {"conflict", "widget_jammed"}
    assert examples["widget_jammed"]["value"]["status"] == 409
    assert conflict["model"] is Problem
    assert responses[404]["description"] == "Not found: `not_found`"
