"""Choice fields that refuse ids no database key can hold (no model imports: models use them too)."""

from __future__ import annotations

from django import forms


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
