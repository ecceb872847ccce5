"""Phone numbers: validated and normalised to E.164 with German as default region."""

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

DEFAULT_REGION = "DE"


def normalize_phone(value: str, *, mobile: bool = False) -> str:
    """'0151 2345 6789' -> '+4915123456789'; raises a German ValidationError."""
    try:
        number = phonenumbers.parse(value, DEFAULT_REGION)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(_("Bitte eine gültige Telefonnummer eingeben, z. B. 0151 23456789."),
                              code="invalid_phone") from exc
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(_("Bitte eine gültige Telefonnummer eingeben, z. B. 0151 23456789."),
                              code="invalid_phone")
    if mobile and phonenumbers.number_type(number) not in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        raise ValidationError(_("Bitte eine Handynummer eingeben: an sie senden wir SMS."), code="not_mobile")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def format_phone(value: str) -> str:
    """'+4915123456789' -> '+49 1512 3456789' for display."""
    try:
        return phonenumbers.format_number(
            phonenumbers.parse(value, DEFAULT_REGION), phonenumbers.PhoneNumberFormat.INTERNATIONAL
        )
    except phonenumbers.NumberParseException:
        return value
