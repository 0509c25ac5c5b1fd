"""What a text field may hold: one definition for every service, sender and receiver alike.

Two kinds of text cross the API, and each has one rule:

- A **label** names or identifies something on one line: product, plan and add-on names,
  categories, principals' ids (a token's `sub`), field paths. It refuses every control
  character (C0, DEL, C1), line and paragraph separators, lone surrogates, and every *format*
  character (Unicode category Cf): the bidi embeddings, overrides and isolates of "Trojan
  Source" (U+202A-U+202E, U+2066-U+2069), the bidi marks (U+200E, U+200F, U+061C), the
  zero-width characters (U+200B-U+200D, U+2060, U+FEFF), the soft hyphen, the invisible tag
  characters. A label is shown to people who compare it by eye; none of these has any
  business in one.
- A **text** is prose a person typed, often in a textarea: descriptions, notes, reasons,
  messages. It may span lines (CR, LF and TAB are kept as sent) and keeps the characters that
  real writing needs: zero-width joiners (emoji sequences, Persian and Indic scripts) and the
  bidi *marks*, which only nudge neutral characters. It refuses the other control
  characters, lone surrogates and the bidi embeddings, overrides and isolates, whose effect
  runs on past the end of the text into whatever displays it next.

Lone surrogates come in as JSON escapes (`"\\ud800"`); they are not characters and can't be
encoded as UTF-8, so a database (or any encoder) would fail on them. NUL is refused by both
kinds (PostgreSQL can't store it).

The rules are character classes (`LABEL_REFUSED`, `TEXT_REFUSED`), usable as regular
expressions (`shared.auth` checks a token's `sub` with `SUBJECT`) and as pydantic annotations
(`LABEL`, `TEXT`), so a sender and its receiver validate with the same object.
"""

import re
from typing import Annotated

from pydantic import AfterValidator, StringConstraints
from pydantic_core import PydanticCustomError

# Written as ranges rather than computed from `unicodedata` at import time (a scan of every
# code point costs a noticeable fraction of a second); tests/shared/test_text.py checks them
# against the Unicode database, so a new format character can't slip past unnoticed.
CONTROLS = "\\x00-\\x1f\\x7f-\\x9f"
LINE_BREAKS_AND_TAB = "\\t\\n\\r"
SURROGATES = "\\ud800-\\udfff"
BIDI_EMBEDDINGS_OVERRIDES_ISOLATES = "\\u202a-\\u202e\\u2066-\\u2069"
BIDI_MARKS = "\\u061c\\u200e\\u200f"
ZERO_WIDTH = "\\u200b-\\u200d\\u2060\\ufeff"
SEPARATORS = "\\u2028\\u2029"
# The rest of Unicode's format characters (category Cf).
OTHER_FORMAT = (
    "\\u00ad\\u0600-\\u0605\\u06dd\\u070f\\u0890\\u0891\\u08e2\\u180e\\u2061-\\u2064"
    "\\u206a-\\u206f\\ufff9-\\ufffb\\U000110bd\\U000110cd\\U00013430-\\U0001343f"
    "\\U0001bca0-\\U0001bca3\\U0001d173-\\U0001d17a\\U000e0001\\U000e0020-\\U000e007f"
)

LABEL_REFUSED = (
    CONTROLS
    + SURROGATES
    + BIDI_EMBEDDINGS_OVERRIDES_ISOLATES
    + BIDI_MARKS
    + ZERO_WIDTH
    + SEPARATORS
    + OTHER_FORMAT
)
TEXT_REFUSED = (
    "\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f" + SURROGATES + BIDI_EMBEDDINGS_OVERRIDES_ISOLATES
)

_LABEL_REFUSED = re.compile(f"[{LABEL_REFUSED}]")
_TEXT_REFUSED = re.compile(f"[{TEXT_REFUSED}]")

# A principal's id (the `sub` of an access token): a label of 1 to 200 characters.
SUBJECT = re.compile(f"[^{LABEL_REFUSED}]{{1,200}}")

# Ids of objects, ours or another service's: they end up in URLs of calls to that service, so
# letters, digits and `_.:@-` only (a `/`, `%` or a control character is a 422 at the edge,
# never another path, or a 500, further on).
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,63}$"


def first_refused_label_character(value: str) -> str | None:
    """The first character a label may not hold, or None."""
    found = _LABEL_REFUSED.search(value)
    return found.group() if found else None


def first_refused_text_character(value: str) -> str | None:
    """The first character a text may not hold, or None."""
    found = _TEXT_REFUSED.search(value)
    return found.group() if found else None


def _refuse(char: str, kind: str) -> PydanticCustomError:
    return PydanticCustomError(
        "forbidden_character",
        "{kind} may not contain U+{code} (a control, bidi or invisible character)",
        {"kind": kind, "code": f"{ord(char):04X}"},
    )


def _check_label(value: str) -> str:
    char = first_refused_label_character(value)
    if char is not None:
        raise _refuse(char, "A name or id")
    return value


def _check_text(value: str) -> str:
    char = first_refused_text_character(value)
    if char is not None:
        raise _refuse(char, "Text")
    return value


# The rules as pydantic annotations: `Annotated[str, StringConstraints(...), LABEL]`. They run
# after the constraints (so after stripping), and report a 422 `forbidden_character` error.
LABEL = AfterValidator(_check_label)
TEXT = AfterValidator(_check_text)

Subject = Annotated[str, StringConstraints(min_length=1, max_length=200), LABEL]
"""A principal's id, as a token's `sub` carries it and other services receive it."""

ObjectId = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
"""The id of an object, ours or another service's."""
