"""Text as a rule should see it: look-alike spellings folded so that rules cannot be dodged.

An agent (or a prompt injected into one) can write "guar\u00adantee" (soft hyphen), "free\u200bof
charge" (zero-width space), "ｇｕａｒａｎｔｅｅ" (fullwidth) or "guаrantee" (Cyrillic а): each reads
as the banned word to a customer and used to pass every rule. `skeleton` undoes all of these.
"""

from __future__ import annotations

import re
import unicodedata

# Letters from Cyrillic, Greek and a few other blocks that render like a Latin letter in common
# fonts (after NFKC and casefolding, so lower case only). The Unicode confusables data
# (UTS #39, confusables.txt) lists these pairs among many others; this table keeps the ones that
# matter for Latin-script rules without a dependency.
_LOOKALIKES = {
    "a": "аɑα",
    "b": "ьƅ",
    "c": "сϲⅽ",
    "d": "ԁⅾ",
    "e": "еҽε",
    "g": "ɡց",
    "h": "һ",
    "i": "іıιӏ",
    "j": "јϳ",
    "k": "κк",
    "l": "ⅼǀ",
    "m": "ⅿм",
    "n": "ոη",
    "o": "оοօσ",
    "p": "рρ",
    "q": "ԛ",
    "r": "г",
    "s": "ѕ",
    "t": "τт",
    "u": "υս",
    "v": "νѵ",
    "w": "ԝѡ",
    "x": "хχ",
    "y": "уγ",
    "z": "ᴢ",
}
_FOLD = str.maketrans({ch: latin for latin, chars in _LOOKALIKES.items() for ch in chars})
_SPACES = re.compile(r"\s+")


def skeleton(text: str, *, casefold: bool = True) -> str:
    """NFKC, format characters (Cf) removed, look-alikes folded to Latin, spaces collapsed."""
    if text.isascii():
        # NFKC leaves ASCII as it is, and no format character or look-alike is ASCII: the
        # same result as below (tests/test_textnorm_ascii.py), without a pass per character.
        return _SPACES.sub(" ", text.lower() if casefold else text)
    return unicode_skeleton(text, casefold=casefold)


def unicode_skeleton(text: str, *, casefold: bool = True) -> str:
    """`skeleton`, every step taken whatever the text."""
    text = unicodedata.normalize("NFKC", text)
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    if casefold:
        text = text.casefold()
    # Casefolding first lets one lower-case table serve both cases; without it, fold upper-case
    # look-alikes through their lower-case form only when that lands on a Latin letter.
    text = text.translate(_FOLD) if casefold else _fold_keeping_case(text)
    return _SPACES.sub(" ", text)


def _fold_keeping_case(text: str) -> str:
    out = []
    for ch in text:
        lower = ch.lower()
        folded = lower.translate(_FOLD)
        if folded == lower:
            out.append(ch)
        else:
            out.append(folded.upper() if ch != lower else folded)
    return "".join(out)


def variants(text: str) -> list[str]:
    """The text as written, and its skeleton with and without case: what a pattern is tried on.

    A spec's pattern may be case-sensitive (`CEO`), so the case-keeping skeleton is tried too;
    trying the original first keeps every match the rule had before.
    """
    seen: list[str] = []
    for form in (text, skeleton(text, casefold=False), skeleton(text)):
        if form not in seen:
            seen.append(form)
    return seen
