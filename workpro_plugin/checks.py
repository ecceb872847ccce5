"""WorkPro's system checks: what the plugin needs of its host, and deploy hardening.

Registered on import (AppConfig.ready). Checks tagged `database` read the database and run with
`manage.py check --database default` and before `migrate`.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core import checks
from django.db import DatabaseError
from django.utils.module_loading import import_string
from wagtail.admin.views import account as wagtail_account

from .access import two_factor_required
from .backends import AccountLockoutHandler, IssuedPasswordBackend
from .middleware import UNSAFE_INLINE
from .services.institutions import groups_spanning_institutions


@checks.register(checks.Tags.security, checks.Tags.database)
def check_group_page_permissions(app_configs=None, databases=None, **kwargs):
    """A group whose page permissions reach several institutions lets its members edit and publish
    another institution's offers (Wagtail's default Editors and Moderators have rights on the root)."""
    if not databases or "default" not in databases:
        return []
    try:
        spanning = groups_spanning_institutions()
    except DatabaseError:  # not migrated yet (migrate runs the checks first)
        return []
    return [checks.Warning(
        f"The group {group.name!r} has page permissions on pages of several institutions "
        f"({', '.join(names)}): its members may edit and publish the offers of all of them.",
        hint="Give each institution's staff its own groups (WorkPro creates \"Sachbearbeitung …\" and "
             "\"Leitung …\" with rights on the institution's homepage only) and remove this group's page "
             "permissions above or across institutions' homepages (Settings → Groups). Wagtail's default "
             "Editors and Moderators have rights on the root page.",
        obj=group, id="workpro.W010") for group, names in spanning]


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
SMS_PASSWORD_BACKEND = "workpro_plugin.backends.SmsPasswordBackend"


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
