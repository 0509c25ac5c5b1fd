"""Usage against the entitlement: used, limit, remaining, exceeded, packs to cover."""

import pytest

from services.license.domain.usage import Usage


def test_below_the_limit_something_remains_and_nothing_is_short() -> None:
    usage = Usage(used=80, limit=100)

    assert (usage.remaining, usage.exceeded, usage.shortfall) == (20, False, 0)
    assert usage.packs_to_cover(50) == 0


def test_reaching_the_limit_exactly_is_not_exceeding_it() -> None:
    usage = Usage(used=100, limit=100)

    assert (usage.remaining, usage.exceeded, usage.shortfall) == (0, False, 0)


def test_past_the_limit_nothing_remains_and_whole_packs_cover_the_rest() -> None:
    usage = Usage(used=130, limit=100)

    assert (usage.remaining, usage.exceeded, usage.shortfall) == (0, True, 30)
    assert usage.packs_to_cover(100) == 1
    assert usage.packs_to_cover(30) == 1
    assert usage.packs_to_cover(29) == 2
    assert usage.packs_to_cover(1) == 30


def test_with_no_entitlement_everything_used_is_over() -> None:
    usage = Usage(used=5, limit=0)

    assert (usage.remaining, usage.exceeded, usage.shortfall) == (0, True, 5)


def test_an_add_on_that_raises_nothing_covers_nothing() -> None:
    with pytest.raises(ValueError, match="raises the metric"):
        Usage(used=5, limit=0).packs_to_cover(0)
