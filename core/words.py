"""Small helpers for the words pages and messages print around numbers."""

from __future__ import annotations

# numbers whose spoken form starts with a vowel sound: eight, eleven, eighteen, eighty-..., eight hundred
_VOWEL_SOUND = {8, 11, 18, *range(80, 90), *range(800, 900)}


def a_or_an(n: int) -> str:
    """The indefinite article before the number ``n`` as it is read aloud: 'an 8-number code', 'a 2-number code'.

    English picks the article by the sound of the spoken number, so the leading group of three digits
    decides (11,000 is 'eleven thousand', 800 is 'eight hundred', 18 is 'eighteen'): 'an' for 8, 11, 18,
    80-89 and 800-899 there, 'a' otherwise.

    Parameters
    ----------
    n : int
        A whole number (its sign is ignored: 'minus' is not said here).

    Returns
    -------
    str
        'a' or 'an'.
    """
    lead = abs(int(n))
    while lead >= 1000:  # 8,000 -> 8 ('eight thousand'); 18,000,000 -> 18 ('eighteen million')
        lead //= 1000
    return "an" if lead in _VOWEL_SOUND else "a"
