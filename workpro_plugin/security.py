"""Hardening middleware and deploy checks: the admin-only CSP relaxation, extra security
headers, the staff two-factor gate, failed authorisation in the audit log, and the one
place that decides a request's client address.

The public site and the portal run under a CSP without 'unsafe-inline'; the Wagtail admin
still ships inline styles and scripts, so requests below its URL prefix get them added.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache, wraps
from urllib.parse import urlencode

from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core import checks
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import NoReverseMatch, reverse
from django.utils.module_loading import import_string
from wagtail.admin.views import account as wagtail_account

from .backends import AccountLockoutHandler, IssuedPasswordBackend

UNSAFE_INLINE = "'unsafe-inline'"


@lru_cache(maxsize=1)
def _admin_prefix() -> str:
    try:
        return reverse("wagtailadmin_home")
    except NoReverseMatch:  # a host site without the Wagtail admin
        return "\0"


def is_admin_path(path: str) -> bool:
    """True for every URL of the Wagtail admin (wherever the project mounted it)."""
    return path.startswith(_admin_prefix())


class WorkProCSPMiddleware(CSPMiddleware):
    """django-csp, plus 'unsafe-inline' for script-src/style-src in the Wagtail admin only."""

    def get_policy_parts(self, request, response, report_only: bool = False) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if not report_only and is_admin_path(request.path_info):
            update = dict(parts.update or {})
            for directive in getattr(settings, "WORKPRO_ADMIN_CSP_RELAXED", ("script-src", "style-src")):
                update[directive] = [*(update.get(directive) or ()), UNSAFE_INLINE]
            parts.update = update
        return parts


class SecurityHeadersMiddleware:
    """Headers Django's SecurityMiddleware does not send: Permissions-Policy."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        policy = getattr(settings, "WORKPRO_PERMISSIONS_POLICY", "")
        if policy and "Permissions-Policy" not in response:
            response["Permissions-Policy"] = policy
        return response


# --- two-factor authentication for staff -------------------------------------------------

# Admin views an authenticated staff member reaches before the second factor.
TWO_FACTOR_OPEN_URL_NAMES = {
    "wagtailadmin_login", "wagtailadmin_logout", "wagtailadmin_javascript_catalog", "wagtailadmin_sprite",
    "two_factor_setup", "two_factor_verify", "two_factor_link_request", "two_factor_link",
}


def has_admin_access(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active
                and (user.is_superuser or user.has_perm("wagtailadmin.access_admin")))


def two_factor_required() -> bool:
    """Read per request, so tests (and a deployment's environment) can switch it."""
    return bool(getattr(settings, "WORKPRO_REQUIRE_STAFF_2FA", False))


def needs_second_factor(user) -> str:
    """"" if the user may act as staff now; else "verify" (has a device) or "setup" (required, none yet).

    Who set up a device is always asked for a code, even where 2FA is optional.
    """
    from django_otp import user_has_device

    if not has_admin_access(user):
        return ""
    if getattr(user, "is_verified", None) and user.is_verified():
        return ""
    if user_has_device(user, confirmed=True):
        return "verify"
    return "setup" if two_factor_required() else ""


class StaffTwoFactorMiddleware:
    """Sends staff to the TOTP setup or code page before any other Wagtail admin view.

    Must follow django-otp's OTPMiddleware (which adds ``user.is_verified()``). The portal is
    not gated: participants and guardians never need a second factor.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not is_admin_path(request.path_info):
            return None
        match = request.resolver_match
        if match is not None and match.url_name in TWO_FACTOR_OPEN_URL_NAMES:
            return None
        step = needs_second_factor(getattr(request, "user", None))
        if not step:
            return None
        target = reverse("workpro_admin:two_factor_setup" if step == "setup" else "workpro_admin:two_factor_verify")
        return redirect(f"{target}?{urlencode({'next': request.get_full_path()})}")


# --- failed authorisation --------------------------------------------------------------------

def audit_denials(view):
    """For admin views: Wagtail turns PermissionDenied into a redirect, so log it on the way out."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except PermissionDenied:
            _record_denied(request, kwargs)
            raise

    return wrapped


def _record_denied(request, kwargs=None, reason: str = "permission_denied") -> None:
    from .services import audit

    kwargs = kwargs or {}
    match = request.resolver_match
    audit.denied(request, object_type=match.view_name if match else "",
                 object_id=kwargs.get("pk") or kwargs.get("instance_pk") or "", reason=reason)


class AuditMiddleware:
    """Lends services the request's address for their audit rows, and audits failed authorisation:

    a PermissionDenied from a portal view, and a logged-in user without admin access knocking at
    the Wagtail admin (admin views themselves are wrapped with ``audit_denials``).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from .services import audit

        token = audit.current_request.set(request)
        try:
            return self.get_response(request)
        finally:
            audit.current_request.reset(token)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = getattr(request, "user", None)
        match = request.resolver_match
        if (user is not None and user.is_authenticated and is_admin_path(request.path_info)
                and not has_admin_access(user) and match is not None
                and match.url_name not in TWO_FACTOR_OPEN_URL_NAMES):
            _record_denied(request, view_kwargs, reason="no_admin_access")
        return None

    def process_exception(self, request, exception):
        if isinstance(exception, PermissionDenied) and not is_admin_path(request.path_info):
            _record_denied(request, getattr(request.resolver_match, "kwargs", None))
        return None


# --- client address ------------------------------------------------------------------------

@lru_cache(maxsize=8)
def _trusted_networks(entries: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries if entry.strip())


def _parse_ip(value: str):
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


def client_ip(request) -> str | None:
    """The address of the client behind our own reverse proxies, or None.

    X-Forwarded-For is believed only as far as the hops are ours: starting at the socket
    peer (REMOTE_ADDR), every address inside WORKPRO_TRUSTED_PROXIES is a proxy of this
    deployment and the hop before it (to its left in the header) is read next; the first
    address that is not one of ours is the client. With no trusted proxies (the default)
    the header is ignored, so nobody can pick the address that login throttling, the
    password-request limit and the audit log see. Used by django-axes through
    AXES_CLIENT_IP_CALLABLE, so lockouts and the audit log agree.
    """
    if request is None:
        return None
    meta = getattr(request, "META", {})
    peer = _parse_ip(meta.get("REMOTE_ADDR") or "")
    if peer is None:
        return None
    trusted = _trusted_networks(tuple(getattr(settings, "WORKPRO_TRUSTED_PROXIES", ()) or ()))
    if not trusted:
        return str(peer)
    hops = [hop for hop in (meta.get("HTTP_X_FORWARDED_FOR") or "").split(",") if hop.strip()]
    current = peer
    while any(current in network for network in trusted) and hops:
        previous = _parse_ip(hops.pop())
        if previous is None:  # a forged or broken entry: stop at the last address we can vouch for
            break
        current = previous
    return str(current)


@checks.register(checks.Tags.security)
def check_trusted_proxies(app_configs=None, **kwargs):
    """A typo in TRUSTED_PROXIES must stop the start, not turn every request into a 500."""
    problems = []
    for entry in getattr(settings, "WORKPRO_TRUSTED_PROXIES", ()) or ():
        try:
            ipaddress.ip_network(str(entry).strip(), strict=False)
        except ValueError:
            problems.append(checks.Error(
                f"WORKPRO_TRUSTED_PROXIES: {entry!r} is neither an IP address nor a network.",
                hint="Use addresses or CIDR networks, e.g. TRUSTED_PROXIES=127.0.0.1,10.0.0.0/8.",
                id="workpro.E001"))
    return problems


# --- login protection ------------------------------------------------------------------------

ISSUED_PASSWORD_BACKEND = "workpro_plugin.backends.IssuedPasswordBackend"
ACCOUNT_LOCKOUT_HANDLER = "workpro_plugin.backends.AccountLockoutHandler"
SMS_PASSWORD_BACKEND = "workpro_plugin.sms_login.SmsPasswordBackend"


def _imported(path: str):
    try:
        return import_string(path)
    except ImportError:
        return None


@checks.register(checks.Tags.security)
def check_login_protection(app_configs=None, **kwargs):
    """Issued-password expiry and the per-account lock live in settings-named classes: a host that
    keeps Django's ModelBackend or axes' default handler would silently lose them."""
    problems = []
    backends = [(path, _imported(path)) for path in getattr(settings, "AUTHENTICATION_BACKENDS", ())]
    if not any(isinstance(cls, type) and issubclass(cls, IssuedPasswordBackend) for _, cls in backends):
        problems.append(checks.Error(
            f"AUTHENTICATION_BACKENDS lacks {ISSUED_PASSWORD_BACKEND}: expired issued passwords would be accepted.",
            hint=f"Use {ISSUED_PASSWORD_BACKEND} instead of django.contrib.auth.backends.ModelBackend.",
            id="workpro.E011"))
    for path, cls in backends:
        if isinstance(cls, type) and issubclass(cls, ModelBackend) and not issubclass(cls, IssuedPasswordBackend):
            problems.append(checks.Error(
                f"AUTHENTICATION_BACKENDS contains {path}, which accepts issued passwords after 72 hours.",
                hint=f"Replace it with {ISSUED_PASSWORD_BACKEND} (keep axes.backends.AxesStandaloneBackend first).",
                id="workpro.E012"))
    handler = _imported(getattr(settings, "AXES_HANDLER", "") or "axes.handlers.database.AxesDatabaseHandler")
    if not (isinstance(handler, type) and issubclass(handler, AccountLockoutHandler)):
        problems.append(checks.Error(
            "AXES_HANDLER is not the WorkPro handler: failed logins would lock per address only.",
            hint=f"Set AXES_HANDLER = \"{ACCOUNT_LOCKOUT_HANDLER}\".", id="workpro.E013"))
    per_address = getattr(settings, "AXES_FAILURE_LIMIT", 3)
    account = getattr(settings, "WORKPRO_ACCOUNT_FAILURE_LIMIT", None)
    if isinstance(per_address, int) and account is not None and int(account) <= per_address:
        problems.append(checks.Error(
            "WORKPRO_ACCOUNT_FAILURE_LIMIT must be higher than AXES_FAILURE_LIMIT.",
            hint="Otherwise a few tries from anywhere lock the owner out as well; the default is 20.",
            id="workpro.E014"))
    return problems


# --- identity paths --------------------------------------------------------------------------


@checks.register(checks.Tags.security)
def check_identity_paths(app_configs=None, **kwargs):
    """Every change of a login identity needs proof of the mailbox or the phone (issue #15).

    Wagtail's password reset mails a reset link to whatever address an account has; WorkPro's
    addresses are changed through proofs of their own, and staff recover through their Leitung
    or a superuser, so the reset must be off. Wagtail's account page would let staff change their
    address without any proof. Without the SMS backend, "Neues Passwort anfordern" sends
    passwords that nobody can use.
    """
    problems = []
    if wagtail_account.password_reset_enabled():
        problems.append(checks.Error(
            "Wagtail's password reset (/admin/password_reset/) is on: it mails a reset link to the account's "
            "address without any further proof.",
            hint="Set WAGTAIL_PASSWORD_RESET_ENABLED = False. Portal users request a password by SMS; staff "
                 "recover through their Leitung or a superuser.",
            id="workpro.E015"))
    if wagtail_account.email_management_enabled():
        problems.append(checks.Error(
            "Wagtail's account page (/admin/account/) lets staff change their mail address without confirming it.",
            hint="Set WAGTAIL_EMAIL_MANAGEMENT_ENABLED = False; a superuser changes staff addresses.",
            id="workpro.E016"))
    backends = list(getattr(settings, "AUTHENTICATION_BACKENDS", ()))
    if SMS_PASSWORD_BACKEND not in backends:
        problems.append(checks.Error(
            f"{SMS_PASSWORD_BACKEND} is missing from AUTHENTICATION_BACKENDS: passwords sent by "
            "\"Neues Passwort anfordern\" cannot be used to log in.",
            hint="Add it after axes.backends.AxesStandaloneBackend and ModelBackend.",
            id="workpro.E017"))
    return problems


# --- deploy checks ---------------------------------------------------------------------------

@checks.register(checks.Tags.security, deploy=True)
def check_hardening(app_configs=None, **kwargs):
    """`check --deploy` fails on a production setup that drops 2FA or re-allows inline code."""
    problems = []
    if not two_factor_required():
        problems.append(checks.Warning(
            "WORKPRO_REQUIRE_STAFF_2FA is off: staff can open the Wagtail admin without a second factor.",
            hint="Set WORKPRO_REQUIRE_STAFF_2FA=1 (the default of the production settings).",
            id="workpro.W001"))
    directives = (getattr(settings, "CONTENT_SECURITY_POLICY", None) or {}).get("DIRECTIVES", {})
    for directive in ("default-src", "script-src", "style-src"):
        if UNSAFE_INLINE in (directives.get(directive) or ()):
            problems.append(checks.Warning(
                f"CONTENT_SECURITY_POLICY allows 'unsafe-inline' in {directive} for the public site.",
                hint="Move inline code to static files; only the Wagtail admin is relaxed, per request.",
                id="workpro.W002"))
    return problems
