"""The OpenAPI document, rewritten to say what the services answer: problems as
application/problem+json, a 400 for unreadable bodies, a 503 wherever the database is used,
and the models' own examples."""

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel
from starlette.routing import BaseRoute

from shared.problems import (
    PROBLEM_MEDIA_TYPE,
    BadRequestError,
    DatabaseUnavailableError,
    ProblemError,
    ValidationProblem,
    problem_responses,
)


def problem_openapi(app: FastAPI) -> dict[str, Any]:
    """The generated schema, with problem responses documented as application/problem+json."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
        tags=app.openapi_tags,
    )
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.get("responses", {})
            for status, response in responses.items():
                content = response.get("content", {})
                if PROBLEM_MEDIA_TYPE in content and "application/json" in content:
                    content[PROBLEM_MEDIA_TYPE]["schema"] = content.pop("application/json")[
                        "schema"
                    ]
                if status == "422" and "application/json" in content:
                    # FastAPI's default 422 entry; ours is a problem, not HTTPValidationError.
                    response.update(_documented_problem(ValidationProblem))
            if "requestBody" in operation and "400" not in responses:
                # A body that can't be read at all (not UTF-8 JSON, broken multipart).
                responses["400"] = _documented_problem(BadRequestError)
            if operation.get("operationId") not in _NO_DATABASE_OPERATIONS:
                _document_also(responses, DatabaseUnavailableError)
            operation["responses"] = dict(sorted(responses.items()))
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    examples = _model_examples(app.routes)
    for component in components.values():
        if component.get("title") in examples:
            component["examples"] = examples[component["title"]]
    app.openapi_schema = schema
    return schema


# The operations that never touch the database (every other one may answer 503 `unavailable`).
_NO_DATABASE_OPERATIONS = frozenset({"healthz", "metrics"})


def _document_also(responses: dict[str, Any], error: type[ProblemError]) -> None:
    """Add `error` to an operation's responses, next to the codes its status already has."""
    entry = _documented_problem(error)
    existing = responses.get(str(error.status))
    if existing is None:
        responses[str(error.status)] = entry
        return
    examples = existing["content"][PROBLEM_MEDIA_TYPE].setdefault("examples", {})
    if error.code in examples:
        return
    examples.update(entry["content"][PROBLEM_MEDIA_TYPE]["examples"])
    codes = ", ".join(f"`{code}`" for code in examples)
    existing["description"] = f"Problem: {codes}"


def _documented_problem(error: type[ProblemError]) -> dict[str, Any]:
    """The OpenAPI response object of one problem, as `problem_responses` documents it."""
    entry = problem_responses(error)[error.status]
    return {
        "description": entry["description"],
        "content": {
            PROBLEM_MEDIA_TYPE: {
                "schema": {"$ref": "#/components/schemas/Problem"},
                "examples": entry["content"][PROBLEM_MEDIA_TYPE]["examples"],
            }
        },
    }


def _model_examples(routes: Sequence[BaseRoute]) -> dict[str, list[Any]]:
    """The examples of the routes' body and response models, by schema title.

    FastAPI drops every null from the document it generates, examples included, which leaves
    examples that don't match their own schemas; these are the originals, nulls and all.
    """
    models: list[Any] = []
    for context in iter_route_contexts(routes):
        route = context.original_route
        if isinstance(route, APIRoute):
            models.append(route.response_model)
            models.extend(response.get("model") for response in route.responses.values())
            if route.body_field is not None:
                models.append(route.body_field.field_info.annotation)
    found: dict[str, list[Any]] = {}
    for model in models:
        if isinstance(model, type) and issubclass(model, BaseModel):
            schema = model.model_json_schema(mode="serialization")
            if schema.get("examples"):
                found[schema["title"]] = schema["examples"]
    return found
