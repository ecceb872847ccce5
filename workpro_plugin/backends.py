"""Login protection that every login path shares, because it sits below the views.

- ``IssuedPasswordBackend``: Django's ModelBackend that refuses an issued password after its
  72 hours. The portal form, the Wagtail admin login and Wagtail's ``/_util/login/`` all call
  ``authenticate()``, so none of them can accept an expired one.
- ``AccountLockoutHandler``: django-axes' database handler plus a lock per account across all
  addresses. Axes counts failures per (account, address) and compares them with
  AXES_FAILURE_LIMIT; an attacker rotating addresses never reaches it. The account as a whole
  locks at WORKPRO_ACCOUNT_FAILURE_LIMIT failures within the axes cool-off. That limit is
  higher than the per-address one so a stranger cannot lock a family out with a handful of
  tries, and the lock expires like every axes lock.
- ``SmsPasswordBackend``: passwords sent by "Neues Passwort anfordern". Such a password does
  not replace the account's password when it is sent: it is a pending login change (LoginChange, kind sms) that is good only with the address it was requested for.
  Used to log in, on any login form (the portal, Wagtail's /admin/login/ and /_util/login/),
  it becomes the account's password and its address the login address; the phone that
  received it is the proof. List this backend after django-axes' backend, so failed
  attempts count and lockouts apply (system check workpro.E017).

Named by AUTHENTICATION_BACKENDS and AXES_HANDLER; ``checks.check_login_protection`` stops
the start when a host forgets either.
"""

from __future__ import annotations

from axes.attempts import get_cool_off_threshold
from axes.conf import settings as axes_settings
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_failure_limit
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import BaseBackend, ModelBackend
from django.core.exceptions import PermissionDenied
from django.db.models import Sum

from . import conf
from .access import PASSWORD_EXPIRED
from .services.accounts import password_request_redeem

DEFAULT_ACCOUNT_FAILURE_LIMIT = conf.DEFAULTS["ACCOUNT_FAILURE_LIMIT"]


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


def account_failure_limit() -> int:
    return int(conf.get("ACCOUNT_FAILURE_LIMIT"))


class AccountLockoutHandler(AxesDatabaseHandler):
    """Axes' database handler; an account with too many failures from all addresses is locked too."""

    def get_failures(self, request, credentials: dict | None = None) -> int:
        """The figure axes compares with AXES_FAILURE_LIMIT (for the lock check and after each failure).

        It is the (account, address) count, or the limit itself while the account as a whole
        has reached WORKPRO_ACCOUNT_FAILURE_LIMIT: so both locks use axes' own flow (lockout
        response, user_locked_out signal, audit, expiry with the cool-off).
        """
        failures = super().get_failures(request, credentials)
        limit = get_failure_limit(request, credentials)
        if failures < limit and self.account_failures(request, credentials) >= account_failure_limit():
            return limit
        return failures

    def account_failures(self, request, credentials: dict | None = None) -> int:
        """Failures for the typed account from every address within the cool-off."""
        username = get_client_username(request, credentials)
        if not username:
            return 0
        attempts = AccessAttempt.objects.filter(username=username)
        if axes_settings.AXES_COOLOFF_TIME is not None:
            attempts = attempts.filter(attempt_time__gte=get_cool_off_threshold(request))
        return attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0


class SmsPasswordBackend(BaseBackend):
    """Not a ModelBackend: it never checks an account's own password (that is IssuedPasswordBackend's
    job, with the 72-hour expiry), it only loads users the way ModelBackend does."""

    get_user = ModelBackend.get_user
    user_can_authenticate = ModelBackend.user_can_authenticate

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(get_user_model().USERNAME_FIELD)
        if not username or not password:
            return None
        user = password_request_redeem(email=username, password=password)
        return user if user is not None and self.user_can_authenticate(user) else None
