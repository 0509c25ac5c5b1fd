"""What labels (names, ids) and texts (reasons, notes, descriptions) may hold."""

import re
import sys
import unicodedata
from typing import Annotated

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, StringConstraints, ValidationError

from shared.text import (
    LABEL,
    SUBJECT,
    TEXT,
    first_refused_label_character,
    first_refused_text_character,
)


class Form(BaseModel):
    name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=50), LABEL]
    reason: Annotated[str, StringConstraints(max_length=500), TEXT] = "ok"


def test_every_control_surrogate_and_format_character_is_refused_in_a_label() -> None:
    refused = {"Cc", "Cs", "Cf", "Zl", "Zp"}
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        if unicodedata.category(char) in refused:
            assert first_refused_label_character(f"a{char}b") == char, f"U+{code:04X}"


def test_a_text_keeps_line_breaks_tabs_joiners_and_bidi_marks() -> None:
    persian = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"  # ZWNJ inside a word
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # an emoji ZWJ sequence
    kept = f"Customer asked.\r\nSee ticket 42\tthanks {family} {persian} \u200e\u200f\u061c"
    assert first_refused_text_character(kept) is None
    assert Form(name="x", reason=kept).reason == kept


@pytest.mark.parametrize(
    "char",
    [
        "\x00",
        "\x07",
        "\x1b",
        "\x7f",
        "\x85",
        "\ud800",
        chr(0xDFFF),
        *"\u202a\u202b\u202c\u202d\u202e",
        *"\u2066\u2067\u2068\u2069",
    ],
)
def test_a_text_refuses_controls_lone_surrogates_and_bidi_overrides(char: str) -> None:
    assert first_refused_text_character(f"refund {char} now") == char
    with pytest.raises(ValidationError) as caught:
        Form(name="x", reason=f"refund {char} now")
    # pydantic refuses a lone surrogate itself when a length is checked: either way a 422.
    assert caught.value.errors()[0]["type"] in ("forbidden_character", "string_unicode")


@pytest.mark.parametrize(
    "name", ["FleetOTA", "Flotte Über", "車載アップデート", "تحديثات", "Ünïcödé ✓ 🚗", "a-b_c.d"]
)
def test_names_in_any_script_are_labels(name: str) -> None:
    assert Form(name=name).name == name
    assert SUBJECT.fullmatch(name)


@pytest.mark.parametrize(
    "name",
    ["Fleet\u202eATO", "Fleet\u200bOTA", "Fleet\u2066OTA", "\ufeffFleet", "a\nb", "a\u2028b"],
)
def test_a_label_refuses_bidi_zero_width_and_line_breaks(name: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Form(name=name)
    assert caught.value.errors()[0]["type"] == "forbidden_character"
    assert not SUBJECT.fullmatch(name)


@given(st.text(max_size=60))
def test_the_subject_pattern_and_the_label_rule_agree(value: str) -> None:
    as_label = 1 <= len(value) <= 200 and first_refused_label_character(value) is None
    assert bool(SUBJECT.fullmatch(value)) == as_label


@given(st.text(max_size=60))
def test_every_label_is_a_text(value: str) -> None:
    if first_refused_label_character(value) is None:
        assert first_refused_text_character(value) is None


def test_the_rules_are_regular_expressions_usable_anywhere() -> None:
    assert re.compile(SUBJECT.pattern).fullmatch("acme")
