"""How WorkPro writes money and dates: on pages, in the admin, in mails and in PDFs alike.

Amounts carry two decimals and thousands grouping in the active language ("1.234,50 €");
dates are written the German way (d.m.Y) in every language, because the documents they
appear in are German contracts. Templates use the filters of ``workpro_formats``.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.utils import timezone
from django.utils.formats import date_format, number_format

DATE_FORMAT = "d.m.Y"
DATETIME_FORMAT = "d.m.Y H:i"
CURRENCY = "€"


def format_amount(value: Decimal | int | float | str | None, places: int = 2) -> str:
    """ "1.234,50" (no currency sign): for texts that place the sign themselves; "" for no value."""
    if value in (None, ""):
        return ""
    return number_format(Decimal(str(value)), places, force_grouping=True)


def format_money(value: Decimal | int | float | str | None, places: int = 2) -> str:
    """ "1.234,50 €"; "" for no value."""
    amount = format_amount(value, places)
    return f"{amount} {CURRENCY}" if amount else ""


def format_date(value: datetime.date | datetime.datetime | str | None) -> str:
    """ "24.12.2026"; ISO strings (as stored in section data) are read; "" for no value."""
    if value in (None, ""):
        return ""
    if isinstance(value, str):
        try:
            value = datetime.date.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime.datetime) and timezone.is_aware(value):
        value = timezone.localtime(value)
    return date_format(value, DATE_FORMAT)


def format_datetime(value: datetime.datetime | None) -> str:
    """ "24.12.2026 14:30" in local time; "" for no value."""
    if value is None:
        return ""
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return date_format(value, DATETIME_FORMAT)
