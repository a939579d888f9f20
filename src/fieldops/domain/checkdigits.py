"""Check digits of GS1 keys (GTIN, SSCC, GLN) and the EAN/UPC symbols that carry them."""

from __future__ import annotations

# The lengths a GTIN may have, by the symbol it came from.
GTIN_LENGTHS = frozenset({8, 12, 13, 14})


def gs1_check_digit(body: str) -> int:
    """The GS1 mod-10 check digit for `body`, the digits that precede it.

    Weights run 3, 1, 3, ... from the rightmost digit of the body, which is how every GS1
    key (GTIN-8/12/13/14, SSCC, GLN, GRAI/GIAI numeric parts) is checked.
    """
    if not body.isascii() or not body.isdigit():
        raise ValueError("a GS1 check digit is computed over ASCII digits only")
    total = 0
    for position, char in enumerate(reversed(body)):
        weight = 3 if position % 2 == 0 else 1
        total += weight * (ord(char) - 48)
    return (10 - total % 10) % 10


def has_valid_gs1_check_digit(digits: str) -> bool:
    """Whether the last digit of `digits` is the GS1 check digit of the rest."""
    if len(digits) < 2 or not digits.isascii() or not digits.isdigit():
        return False
    return gs1_check_digit(digits[:-1]) == ord(digits[-1]) - 48


def is_valid_gtin(digits: str) -> bool:
    """Whether `digits` is a GTIN-8, -12, -13 or -14 with a correct check digit."""
    return len(digits) in GTIN_LENGTHS and has_valid_gs1_check_digit(digits)


def gtin14(digits: str) -> str:
    """The 14-digit form of a GTIN (left padded with zeros), as GS1 compares them."""
    if len(digits) not in GTIN_LENGTHS or not digits.isascii() or not digits.isdigit():
        raise ValueError("not a GTIN: expected 8, 12, 13 or 14 digits")
    return digits.zfill(14)


def expand_upce(digits: str) -> str:
    """The UPC-A (12 digits) that an 8-digit UPC-E code stands for.

    The 8 digits are the number system (0 or 1), six data digits and the check digit; the
    check digit of a UPC-E is that of its UPC-A expansion.
    """
    if len(digits) != 8 or not digits.isascii() or not digits.isdigit():
        raise ValueError("a UPC-E code has 8 digits")
    system, data, check = digits[0], digits[1:7], digits[7]
    last = data[5]
    if last in "012":
        body = data[0:2] + last + "0000" + data[2:5]
    elif last == "3":
        body = data[0:3] + "00000" + data[3:5]
    elif last == "4":
        body = data[0:4] + "00000" + data[4]
    else:
        body = data[0:5] + "0000" + last
    return system + body + check
