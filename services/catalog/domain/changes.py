"""What a revision changes against the live one, so a reviewer sees the change, not the whole."""

from typing import Any, Literal

from pydantic import BaseModel

from services.catalog.domain.model import Snapshot

Op = Literal["added", "removed", "changed"]


class RevisionChange(BaseModel):
    """One difference: `path` names the object (`addons/add_…`), `field` what changed in it."""

    op: Op
    path: str
    field: str | None = None
    before: Any = None
    after: Any = None
    summary: str


def diff(live: Snapshot | None, new: Snapshot) -> list[RevisionChange]:
    """Every change from `live` (None: nothing is live yet) to `new`."""
    changes: list[RevisionChange] = []
    if live is None:
        changes.append(
            RevisionChange(op="added", path="product", summary=f"New listing '{new.details.name}'")
        )
        base_details: dict[str, Any] = {}
        live_items: dict[str, dict[str, dict[str, Any]]] = {"plans": {}, "addons": {}}
    else:
        base_details = live.details.model_dump(mode="json")
        live_items = {
            "plans": {p.id: p.model_dump(mode="json") for p in live.plans},
            "addons": {a.id: a.model_dump(mode="json") for a in live.addons},
        }
        for field, after in new.details.model_dump(mode="json").items():
            before = base_details.get(field)
            if before != after:
                changes.append(
                    RevisionChange(
                        op="changed",
                        path="product",
                        field=field,
                        before=before,
                        after=after,
                        summary=f"Product {field} changed",
                    )
                )
    new_items = {
        "plans": {p.id: p.model_dump(mode="json") for p in new.plans},
        "addons": {a.id: a.model_dump(mode="json") for a in new.addons},
    }
    for kind, noun in (("plans", "Plan"), ("addons", "Add-on")):
        old, current = live_items[kind], new_items[kind]
        for item_id, item in current.items():
            path = f"{kind}/{item_id}"
            if item_id not in old:
                changes.append(
                    RevisionChange(
                        op="added", path=path, after=item, summary=f"{noun} '{item['name']}' added"
                    )
                )
                continue
            for field, after in item.items():
                before = old[item_id].get(field)
                if before != after:
                    changes.append(
                        RevisionChange(
                            op="changed",
                            path=path,
                            field=field,
                            before=before,
                            after=after,
                            summary=f"{noun} '{item['name']}' {_describe(field, after)}",
                        )
                    )
        for item_id, item in old.items():
            if item_id not in current:
                changes.append(
                    RevisionChange(
                        op="removed",
                        path=f"{kind}/{item_id}",
                        before=item,
                        summary=f"{noun} '{item['name']}' removed",
                    )
                )
    return changes


def _describe(field: str, after: Any) -> str:
    if field == "retired":
        return "retired" if after else "back on sale"
    if field in ("cycles", "price"):
        return "price changed"
    if field == "changes_to":
        return f"may change to {len(after)} plan(s)" if after else "may change to no plan"
    return f"{field.replace('_', ' ')} changed"
