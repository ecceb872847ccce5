"""Form fields and validators both faces and the page forms share (no model imports: models use them too)."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def _refuse_huge_ids(values, error: forms.ValidationError) -> None:
    """An id beyond 64 bits is an invalid choice. Django would query with it as it is (OverflowError on
    SQLite, DataError on PostgreSQL: a 500) where the key is not a plain integer field (page_ptr, IN)."""
    for value in values:
        try:
            number = int(value)
        except (TypeError, ValueError):
            continue  # Django refuses it with its own message
        if not -(2**63) <= number < 2**63:
            raise error


class ModelChoiceField(forms.ModelChoiceField):
    def to_python(self, value):
        if value not in self.empty_values:
            _refuse_huge_ids([value], forms.ValidationError(self.error_messages["invalid_choice"],
                                                            code="invalid_choice", params={"value": value}))
        return super().to_python(value)


class ModelMultipleChoiceField(forms.ModelMultipleChoiceField):
    def _check_values(self, value):
        for pk in value:
            _refuse_huge_ids([pk], forms.ValidationError(self.error_messages["invalid_pk_value"],
                                                         code="invalid_pk_value", params={"pk": pk}))
        return super()._check_values(value)


NAME_MAX = 150


def validate_birth_date(value):
    if value > timezone.localdate() or value.year < 1900:
        raise forms.ValidationError(_("Bitte ein gültiges Geburtsdatum eingeben."))
    return value


def clean_name(value: str) -> str:
    value = " ".join(value.split())
    if not value:
        raise forms.ValidationError(_("Bitte einen Namen eingeben."))
    if any(ch in value for ch in "<>@/\\{}[]|=;:") or any(ch.isdigit() for ch in value):
        raise forms.ValidationError(_("Namen dürfen keine Ziffern oder Sonderzeichen wie < > @ enthalten."))
    return value
