"""Coupon and gift-card codes: random, unguessable, easy to read aloud, typo-checked.

The alphabet has 31 characters: the digits 2-9 and the letters A-Z without I, L and
O, so 0/O and 1/I/L can never be confused. The last character is a check character:
the weighted sum ``sum(position * value)`` over the whole code (positions 1, 2, ...,
values are indices in the alphabet) is a multiple of 31. Because 31 is prime and
every position has a different non-zero weight, any single wrong character and any
swap of two different characters changes the sum, so the mistake is caught offline,
at the till, before the database is asked. (Luhn mod N would need an even alphabet
and still misses some adjacent swaps.)
"""

from __future__ import annotations

import secrets
from operator import mul

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
BASE = len(ALPHABET)  # 31, a prime
_VALUE = {ch: i for i, ch in enumerate(ALPHABET)}
_ACCEPT_BELOW = 256 - 256 % BASE  # unbiased: bytes at or above 248 are drawn again
DEFAULT_LENGTH = 10  # random characters; about 49.5 bits, plus the check character
MIN_LENGTH = 6
MAX_LENGTH = BASE - 2  # every position's weight must stay distinct and non-zero
_WEIGHTS = range(1, BASE)
_INVERSE = {w: pow(w, -1, BASE) for w in _WEIGHTS}


def normalize(code: str) -> str:
    """What a person typed, as stored: upper case, without spaces and hyphens."""
    return "".join(code.split()).replace("-", "").upper()


def _weighted_sum(text: str) -> int:
    return sum(map(mul, _WEIGHTS, map(_VALUE.__getitem__, text)))


def check_character(body: str) -> str:
    """The character that makes ``body + it`` a valid code."""
    weight = len(body) + 1
    # weight * value + sum = 0 (mod 31); weight has an inverse because 31 is prime
    value = (-_weighted_sum(body) * _INVERSE[weight]) % BASE
    return ALPHABET[value]


def is_well_formed(code: str) -> bool:
    """True when every character is in the alphabet and the check character fits."""
    if not MIN_LENGTH + 1 <= len(code) <= MAX_LENGTH + 1:
        return False
    if any(ch not in _VALUE for ch in code):
        return False
    return _weighted_sum(code) % BASE == 0


# Each byte below 248 maps to one alphabet character (248 = 8 * 31, so every
# character is equally likely); bytes 248-255 are dropped and drawn again.
_BYTE_TO_CHAR = bytes(ord(ALPHABET[b % BASE]) if b < _ACCEPT_BELOW else 0 for b in range(256))
_REJECTED = bytes(range(_ACCEPT_BELOW, 256))


def _random_text(size: int) -> str:
    """``size`` uniform alphabet characters from the operating system's CSPRNG."""
    out = b""
    while len(out) < size:
        out += secrets.token_bytes(size - len(out) + 16).translate(_BYTE_TO_CHAR, _REJECTED)
    return out[:size].decode("ascii")


def new_code(length: int = DEFAULT_LENGTH) -> str:
    return next(iter(new_codes(1, length)))


def new_codes(count: int, length: int = DEFAULT_LENGTH) -> set[str]:
    """``count`` distinct codes of ``length`` random characters plus a check character."""
    if not MIN_LENGTH <= length <= MAX_LENGTH:
        raise ValueError(f"length must be between {MIN_LENGTH} and {MAX_LENGTH}")
    codes: set[str] = set()
    while len(codes) < count:
        missing = count - len(codes)
        text = _random_text(missing * length)
        for start in range(0, len(text), length):
            body = text[start : start + length]
            codes.add(body + check_character(body))
    return codes


def display(code: str, group: int = 4) -> str:
    """``ABCD-EFGH-JKM`` for printing; ``normalize`` turns it back."""
    return "-".join(code[i : i + group] for i in range(0, len(code), group))
