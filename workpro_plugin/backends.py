"""Login protection that every login path shares, because it sits below the views.

- ``IssuedPasswordBackend``: Django's ModelBackend that refuses an issued password after its
  72 hours. The portal form, the Wagtail admin login and Wagtail's ``/_util/login/`` all call
  ``authenticate()``, so none of them can accept an expired one.

Named by AUTHENTICATION_BACKENDS; ``security.check_login_protection`` stops the start when a
host forgets it.
"""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied

# Why the backend refused a correct password; the portal form reads it for its own message.
PASSWORD_EXPIRED = "password_expired"


def login_refusal(request) -> str:
    """"" or the reason (e.g. PASSWORD_EXPIRED) the backend refused this request's login."""
    return getattr(request, "workpro_login_refused", "") if request is not None else ""


class IssuedPasswordBackend(ModelBackend):
    """ModelBackend, except that an issued password is refused once its 72 hours are over.

    Refusal raises PermissionDenied, so ``authenticate()`` stops here (no later backend can
    accept the password) and sends ``user_login_failed`` as for a wrong password: the failure
    is audited and counted by django-axes.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            return None
        person = getattr(user, "workpro_person", None)
        if person is not None and person.issued_password_expired():
            if request is not None:
                request.workpro_login_refused = PASSWORD_EXPIRED
            raise PermissionDenied("issued password expired")
        return user
