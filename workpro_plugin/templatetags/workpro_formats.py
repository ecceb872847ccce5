"""Money and dates in templates, the same as in PDFs and mails (lib.formats).

    {% load workpro_formats %}
    {{ enrollment.costs|euro }}         1.234,50 €
    {{ fee.amount|amount }}             1.234,50   (the text around it writes "€")
    {{ booking.starts_on|short_date }}  24.12.2026
"""

from django import template

from ..lib.formats import format_amount, format_date, format_datetime, format_money

register = template.Library()


@register.filter
def euro(value, places=2):
    return format_money(value, int(places))


@register.filter
def amount(value, places=2):
    return format_amount(value, int(places))


@register.filter
def short_date(value):
    return format_date(value)


@register.filter
def short_datetime(value):
    return format_datetime(value)
