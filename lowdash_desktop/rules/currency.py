"""How many decimals a currency's amounts show: its minor unit (ISO 4217)."""

from __future__ import annotations

# currencies whose minor unit is not cents; every other one shows two decimals
CURRENCY_DECIMALS = {"JPY": 0, "KRW": 0, "CLP": 0, "ISK": 0, "VND": 0, "BHD": 3, "KWD": 3,
                     "JOD": 3, "OMR": 3, "TND": 3}


def minor_digits(currency: str) -> int:
    """Decimals of the currency's minor unit: 2 for EUR, 0 for JPY, 3 for BHD."""
    return CURRENCY_DECIMALS.get(currency.strip().upper(), 2)
