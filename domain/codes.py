"""Codes people read aloud and type: member codes and voucher codes.

The alphabet leaves out 0/O, 1/I/L and U, so no two characters look or sound alike.
"""

from __future__ import annotations

import secrets

ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
MEMBER_CODE_LENGTH = 8
VOUCHER_CODE_LENGTH = 12  # 30**12 is about 2**59: not guessable at a till or over the API
GROUP = 4
_SEPARATORS = frozenset("-_\u2010\u2011\u2012\u2013\u2014\u2015\u2212")


def new_code(length: int) -> str:
    """A random code from the unambiguous alphabet."""
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def normalize_code(text: str) -> str:
    """What a person typed, as stored: upper case, spaces, dashes and underscores dropped.

    Any Unicode space or dash counts (a phone keyboard may turn "-" into "–").
    """
    return "".join(ch for ch in text.upper() if not ch.isspace() and ch not in _SEPARATORS)


def is_code(text: str, length: int) -> bool:
    """Whether a normalized text can be a code of this length."""
    return len(text) == length and all(ch in ALPHABET for ch in text)


def format_code(code: str) -> str:
    """A code in groups of four for reading, whatever its spelling: 'k7m2q9xr' -> 'K7M2-Q9XR'.

    This is the one way a member or voucher code is shown to a person, everywhere.
    """
    plain = normalize_code(code)
    return "-".join(plain[i : i + GROUP] for i in range(0, len(plain), GROUP))
