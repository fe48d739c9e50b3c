"""How many minor digits a currency's amounts show and take: 2 for USD, 0 for JPY, 3 for KWD.

The digits are CLDR's, the ones Babel formats money with (they differ from ISO 4217 for a
few currencies, such as COP and IDR, whose cents are not written). They are kept here so
that formatting a price or reading a typed amount asks nothing of Babel's global data
(unpickled whole at the first question); a test compares this table with Babel's for
every currency Babel knows.
"""

from __future__ import annotations

DEFAULT_DIGITS = 2

_CURRENCIES_BY_DIGITS = (
    (
        0,
        "ADP AFN ALL BIF BYR CLP COP DJF ESP GNF HUF IDR IQD IRR ISK ITL JPY KMF KPW KRW LAK"
        " LBP LUF MGA MGF MMK MRO PYG RWF SLL SOS STD SYP TMM TRL UGX UYI VND VUV XAF XOF XPF"
        " YER ZMK ZWD",
    ),
    (3, "BHD JOD KWD LYD OMR TND"),
    (4, "CLF UYW"),
)
UNUSUAL_DIGITS = {code: digits for digits, codes in _CURRENCIES_BY_DIGITS for code in codes.split()}


def minor_digits(currency: str) -> int:
    """The digits after the decimal point in an amount of `currency` (2 unless listed)."""
    return UNUSUAL_DIGITS.get(currency, DEFAULT_DIGITS)
