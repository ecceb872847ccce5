"""Template helpers of the add-on bookings and apps: the contract's bookings panel and mail formatting."""

from datetime import date

from django import template
from django.utils.formats import date_format

from ..lib.formats import format_amount
from ..models import FeeSchedule
from ..services.addons import bookable_addons, bookings_of, may_book

register = template.Library()


@register.filter
def iso_date(value: str) -> str:
    """An ISO date from a mail context, formatted in the active language."""
    if not value:
        return ""
    try:
        return date_format(date.fromisoformat(str(value)[:10]), "DATE_FORMAT")
    except ValueError:
        return str(value)


@register.filter
def money(value) -> str:
    """The amount without the sign (mail texts write "€" themselves); lib.formats.format_amount."""
    return format_amount(value)


@register.filter
def billing_period_label(code: str) -> str:
    return str(dict(FeeSchedule.BillingPeriod.choices).get(code, ""))


@register.inclusion_tag("workpro_plugin/includes/addon_panel.html", takes_context=True)
def addon_panel(context, enrollment):
    """Bookings and cost with the contract in "Mein Konto", and "Zusatzangebote buchen" for the holder."""
    request = context.get("request")
    user = getattr(request, "user", None)
    bookings = list(bookings_of(enrollment))
    can_book = may_book(user, enrollment) and bookable_addons(enrollment).exists()
    return {"enrollment": enrollment, "bookings": bookings, "may_book": can_book,
            "show": can_book or bool(bookings), "request": request}


@register.inclusion_tag("workpro_plugin/admin/includes/addon_bookings.html")
def addon_bookings_admin(enrollment):
    """The bookings on the enrollment's inspect view in the Wagtail admin."""
    return {"enrollment": enrollment, "bookings": list(bookings_of(enrollment))}
