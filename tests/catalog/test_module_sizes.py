"""No module of the catalog or review service grows past the size where one reason to change
becomes several (STYLE.md: past about 450 lines, look for the seam)."""

import pytest

from tests.conftest import SERVICES_DIR

MAX_LINES = 450


@pytest.mark.parametrize("service", ["catalog", "review"])
def test_no_module_is_over_450_lines(service: str) -> None:
    sizes = {
        str(path.relative_to(SERVICES_DIR)): len(path.read_text().splitlines())
        for path in (SERVICES_DIR / service).rglob("*.py")
    }

    assert {name: n for name, n in sizes.items() if n > MAX_LINES} == {}
