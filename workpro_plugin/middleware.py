"""WorkPro's middleware: the admin-only CSP relaxation, extra security headers, the staff
two-factor gate, failed authorisation in the audit log, the issued-password redirect, and the
admin's language.

The public site and the portal run under a CSP without 'unsafe-inline'; the Wagtail admin
still ships inline styles and scripts, so requests below its URL prefix get them added.
"""

from __future__ import annotations

from urllib.parse import urlencode

from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import translation

from . import conf
from .access import has_admin_access, needs_second_factor
from .lib.http import is_admin_path
from .lib.inline_css import allowed_style_sources
from .portal.guards import ALLOWED_WITH_ISSUED_PASSWORD, must_set_password
from .services import audit
from .services import offers as offer_services
from .shared.audit import TWO_FACTOR_OPEN_URL_NAMES, record_denied

UNSAFE_INLINE = "'unsafe-inline'"


class WorkProCSPMiddleware(CSPMiddleware):
    """django-csp, plus 'unsafe-inline' for script-src/style-src in the Wagtail admin only, and
    the hashes of the stylesheets a public page inlined (lib.inline_css)."""

    def get_policy_parts(self, request, response, report_only: bool = False) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if not report_only and is_admin_path(request.path_info):
            update = dict(parts.update or {})
            for directive in conf.get("ADMIN_CSP_RELAXED"):
                update[directive] = [*(update.get(directive) or ()), UNSAFE_INLINE]
            parts.update = update
        elif not report_only and (styles := allowed_style_sources(request)):
            # <style> blocks a public page inlined (lib.inline_css), each allowed by its hash
            update = dict(parts.update or {})
            update["style-src"] = [*(update.get("style-src") or ()), *styles]
            parts.update = update
        return parts


class SecurityHeadersMiddleware:
    """Headers Django's SecurityMiddleware does not send: Permissions-Policy."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        policy = conf.get("PERMISSIONS_POLICY")
        if policy and "Permissions-Policy" not in response:
            response["Permissions-Policy"] = policy
        return response


class AdminLanguageMiddleware:
    """The Wagtail admin speaks the site's language (LANGUAGE_CODE) unless a user chose another one
    in their account settings, whatever language the browser asks for.

    Wagtail falls back to the request's language for users without a preferred language, and
    LocaleMiddleware takes that from the browser's Accept-Language: an English browser turned the
    login page and a Kita's admin English. Must follow LocaleMiddleware.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not is_admin_path(request.path_info):
            return self.get_response(request)
        with translation.override(settings.LANGUAGE_CODE):
            request.LANGUAGE_CODE = translation.get_language()
            response = self.get_response(request)
        response.headers.setdefault("Content-Language", request.LANGUAGE_CODE)  # LocaleMiddleware keeps it
        return response


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


class AuditMiddleware:
    """Lends services the request (its address for their audit rows; the sites its changes sent cold are
    warmed when the view is done), and audits failed authorisation:

    a PermissionDenied from a portal view, and a logged-in user without admin access knocking at
    the Wagtail admin (admin views themselves are wrapped with ``audit_denials``).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = audit.current_request.set(request)
        try:
            return self.get_response(request)
        finally:
            audit.current_request.reset(token)
            offer_services.warm_after_request(request)  # the public pages an editor's changes sent cold

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = getattr(request, "user", None)
        match = request.resolver_match
        if (user is not None and user.is_authenticated and is_admin_path(request.path_info)
                and not has_admin_access(user) and match is not None
                and match.url_name not in TWO_FACTOR_OPEN_URL_NAMES):
            record_denied(request, view_kwargs, reason="no_admin_access")
        return None

    def process_exception(self, request, exception):
        if isinstance(exception, PermissionDenied) and not is_admin_path(request.path_info):
            record_denied(request, getattr(request.resolver_match, "kwargs", None))
        return None




class IssuedPasswordMiddleware:
    """An issued password is only good for choosing an own one: portal views redirect there.

    The portal's URL patterns are guarded themselves too (portal.guards), so this middleware is
    a second line, not the only one."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        if match is None or match.namespace != "workpro" or match.url_name in ALLOWED_WITH_ISSUED_PASSWORD:
            return None
        if must_set_password(getattr(request, "user", None)):
            return redirect("workpro:set_password")
        return None
