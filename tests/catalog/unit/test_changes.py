"""What a revision changes against the live one."""

from services.catalog.domain.changes import RevisionChange, diff
from tests.catalog.unit.factories import make_addon, make_plan, make_snapshot


def ops(changes: list[RevisionChange]) -> list[tuple[str, str, str | None]]:
    return [(c.op, c.path, c.field) for c in changes]


def test_a_first_listing_adds_the_product_and_everything_in_it() -> None:
    changes = diff(None, make_snapshot())

    assert ops(changes) == [
        ("added", "product", None),
        ("added", "plans/pln_standard", None),
        ("added", "addons/add_devices", None),
    ]
    assert changes[0].summary == "New listing 'FleetOTA'"
    assert changes[1].after["name"] == "Standard"
    assert changes[2].summary == "Add-on '+100 devices' added"


def test_nothing_changed_is_an_empty_diff() -> None:
    assert diff(make_snapshot(), make_snapshot()) == []


def test_a_changed_product_field_shows_before_and_after() -> None:
    changes = diff(make_snapshot(), make_snapshot(name="FleetOTA Pro"))

    assert ops(changes) == [("changed", "product", "name")]
    assert (changes[0].before, changes[0].after) == ("FleetOTA", "FleetOTA Pro")


def test_a_repriced_addon_is_a_price_change() -> None:
    repriced = make_addon(
        cycles=[{"unit": "month", "count": 1, "price": {"amount_minor": 2500, "currency": "EUR"}}]
    )

    changes = diff(make_snapshot(), make_snapshot(addons=[repriced]))

    assert ops(changes) == [("changed", "addons/add_devices", "cycles")]
    assert changes[0].summary == "Add-on '+100 devices' price changed"
    assert changes[0].before[0]["price"]["amount_minor"] == 1900
    assert changes[0].after[0]["price"]["amount_minor"] == 2500


def test_retiring_and_unretiring_a_plan_are_described() -> None:
    retired = make_snapshot(plans=[make_plan(retired=True)])

    assert [c.summary for c in diff(make_snapshot(), retired)] == ["Plan 'Standard' retired"]
    assert [c.summary for c in diff(retired, make_snapshot())] == ["Plan 'Standard' back on sale"]


def test_other_item_fields_are_named_in_the_summary() -> None:
    changes = diff(make_snapshot(), make_snapshot(addons=[make_addon(max_per_instance=3)]))

    assert ops(changes) == [("changed", "addons/add_devices", "max_per_instance")]
    assert changes[0].summary == "Add-on '+100 devices' max per instance changed"


def test_added_and_removed_plans_are_listed() -> None:
    live = make_snapshot(plans=[make_plan(), make_plan("pln_old", name="Old")])
    new = make_snapshot(plans=[make_plan(), make_plan("pln_new", name="New")])

    changes = diff(live, new)

    assert ops(changes) == [("added", "plans/pln_new", None), ("removed", "plans/pln_old", None)]
    assert changes[1].before["name"] == "Old"
    assert changes[1].summary == "Plan 'Old' removed"
