"""The ASCII shortcut of `skeleton` gives what every normalisation step gives."""

from __future__ import annotations

import string

from hypothesis import given
from hypothesis import strategies as st

from bot.base.textnorm import skeleton, unicode_skeleton

ASCII = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=127), max_size=80)


@given(ASCII, st.booleans())
def test_ascii_text_takes_the_shortcut_to_the_same_skeleton(text: str, casefold: bool) -> None:
    assert skeleton(text, casefold=casefold) == unicode_skeleton(text, casefold=casefold)


def test_every_ascii_character_keeps_its_skeleton() -> None:
    every = "".join(chr(c) for c in range(128))
    for casefold in (True, False):
        assert skeleton(every, casefold=casefold) == unicode_skeleton(every, casefold=casefold)
    assert skeleton(string.ascii_uppercase) == string.ascii_lowercase


def test_text_outside_ascii_is_still_folded() -> None:
    # a soft hyphen, fullwidth letters, a Cyrillic a
    hidden = "guar\u00adantee \uff46\uff52\uff45\uff45 gu\u0430rantee"
    assert skeleton(hidden) == "guarantee free guarantee"
