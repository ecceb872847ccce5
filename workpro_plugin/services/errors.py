"""ServiceError: the one base of refusals a service raises and a view shows.

A service refuses with a German message for the user, optionally naming the form field it
belongs to; a view catches ServiceError (or a subclass) and calls ``add_to(form)`` or shows
``str(error)`` as a message. Subclasses only add what a caller needs to tell them apart.
"""

from __future__ import annotations


class ServiceError(Exception):
    """A refused action; `message` is shown to the user, next to `field` if the form has it."""

    def __init__(self, message: str = "", field: str | None = None):
        super().__init__(message)
        self.message = str(message)
        self.field = field

    def __str__(self) -> str:
        return self.message

    def add_to(self, form) -> None:
        """Put the message on the form: at the field if the form has one of that name, else on top."""
        form.add_error(self.field if self.field in form.fields else None, self.message)


# The name the add-on and app services used first.
FieldError = ServiceError
