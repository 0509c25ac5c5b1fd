"""The partner's plan-change policy: which plans an instance on a plan may change to.

Each plan lists in `changes_to` the ids of the product's plans its instances may move to. The
list relates plans to one another, so it is judged on the whole listing at submission, like
duplicate names: editing a plan stores any well-formed ids, and deleting a plan that another
plan names is allowed; the submission then reports the name as `unknown_plan`. A retired
target is allowed (retiring a plan never forces edits elsewhere); orders refuses a change to it.
"""

from collections.abc import Sequence

from services.catalog.domain.model import Plan
from shared.problems import FieldError


def plan_change_problems(plans: Sequence[Plan]) -> list[FieldError]:
    """Every bad entry of the plans' `changes_to`, located at `plans/<id>/changes_to/<index>`.

    An entry must name a plan of the product (`unknown_plan`), not the plan itself
    (`self_change`), and only once (`duplicate_plan`, on every repeat after the first).
    """
    ids = {p.id for p in plans}
    problems: list[FieldError] = []
    for plan in plans:
        seen: set[str] = set()
        for index, target in enumerate(plan.changes_to):
            loc: list[str | int] = ["plans", plan.id, "changes_to", index]
            if target == plan.id:
                problems.append(
                    FieldError(loc=loc, msg="a plan can't change to itself", type="self_change")
                )
            elif target in seen:
                problems.append(
                    FieldError(loc=loc, msg=f"{target} is listed twice", type="duplicate_plan")
                )
            elif target not in ids:
                problems.append(
                    FieldError(
                        loc=loc, msg=f"{target} is not a plan of this product", type="unknown_plan"
                    )
                )
            seen.add(target)
    return problems
