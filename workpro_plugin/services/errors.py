"""The base of refusals that name the form field they belong to."""

from __future__ import annotations


class FieldError(Exception):
    """A refused action; `message` is shown to the user, next to `field` if the form has it."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = str(message)
        self.field = field

    def __str__(self) -> str:
        return self.message

    def add_to(self, form) -> None:
        """Put the message on the form: at the field if the form has one of that name, else on top."""
        form.add_error(self.field if self.field in form.fields else None, self.message)
