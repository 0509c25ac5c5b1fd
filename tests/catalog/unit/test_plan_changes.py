"""The plan-change policy (`changes_to`) as the submission checks judge it."""

from services.catalog.domain import rules
from services.catalog.domain.changes import diff
from services.catalog.domain.model import Plan, Snapshot
from tests.catalog.unit.factories import make_plan, make_snapshot


def problems(plans: list[Plan]) -> list[tuple[str, list[str | int]]]:
    snapshot = make_snapshot(plans=plans)
    return [(p.type, p.loc) for p in rules.submission_problems(snapshot, None, lambda _id: True)]


def test_a_plan_changes_to_nothing_by_default() -> None:
    assert make_plan().changes_to == []


def test_plans_that_name_each_other_pass() -> None:
    plans = [
        make_plan("pln_basic", name="Basic", changes_to=["pln_pro"]),
        make_plan("pln_pro", name="Pro", changes_to=["pln_basic"]),
    ]

    assert problems(plans) == []


def test_a_retired_target_passes_orders_refuse_it_at_sale() -> None:
    plans = [
        make_plan("pln_basic", name="Basic", changes_to=["pln_old"]),
        make_plan("pln_old", name="Old", retired=True),
    ]

    assert problems(plans) == []


def test_every_bad_target_is_reported_with_its_position() -> None:
    plans = [
        make_plan(
            "pln_basic",
            name="Basic",
            changes_to=["pln_pro", "pln_ghost", "pln_basic", "pln_pro"],
        ),
        make_plan("pln_pro", name="Pro", changes_to=["pln_gone"]),
    ]

    assert problems(plans) == [
        ("unknown_plan", ["plans", "pln_basic", "changes_to", 1]),
        ("self_change", ["plans", "pln_basic", "changes_to", 2]),
        ("duplicate_plan", ["plans", "pln_basic", "changes_to", 3]),
        ("unknown_plan", ["plans", "pln_pro", "changes_to", 0]),
    ]


def test_plan_change_problems_come_with_the_others() -> None:
    plans = [
        make_plan("pln_basic", name="Basic", changes_to=["pln_ghost"]),
        make_plan("pln_pro", name="basic"),
    ]

    assert sorted(t for t, _ in problems(plans)) == ["duplicate_name", "unknown_plan"]


def test_a_changed_policy_is_a_change_of_the_plan() -> None:
    live = make_snapshot(plans=[make_plan(), make_plan("pln_pro", name="Pro")])
    new = make_snapshot(plans=[make_plan(changes_to=["pln_pro"]), make_plan("pln_pro", name="Pro")])

    changes = diff(live, new)

    assert [(c.op, c.path, c.field, c.before, c.after) for c in changes] == [
        ("changed", "plans/pln_standard", "changes_to", [], ["pln_pro"])
    ]
    assert changes[0].summary == "Plan 'Standard' may change to 1 plan(s)"


def test_a_revision_from_before_the_policy_reads_as_changing_to_nothing() -> None:
    stored = make_snapshot().model_dump(mode="json")
    for plan in stored["plans"]:
        del plan["changes_to"]

    assert diff(Snapshot.model_validate(stored), make_snapshot()) == []
