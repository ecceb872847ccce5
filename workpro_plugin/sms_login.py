"""Authentication backend for passwords sent by "Neues Passwort anfordern".

Such a password does not replace the account's password when it is sent: it is a pending
login change (LoginChange, kind sms) that is good only with the address it was requested for.
Used to log in, on any login form (the portal, Wagtail's /admin/login/ and /_util/login/),
it becomes the account's password and its address the login address; the phone that
received it is the proof. List this backend after django-axes' backend, so failed
attempts count and lockouts apply (system check workpro.E017).
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import BaseBackend, ModelBackend

from .services.accounts import password_request_redeem


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
