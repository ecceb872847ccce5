"""Two-factor authentication (TOTP, django-otp) for the Wagtail admin.

Setting up needs a one-time link mailed to the account's own address (a password alone does
not let anyone register their phone): the setup page offers to send it, the link opened in a
session logged in as that user shows the QR code and the secret, and the first code from the app
confirms the device. Ten recovery codes are made then and shown once. The code page is asked once
per login and takes a recovery code instead of an app code. security.StaffTwoFactorMiddleware
sends staff here; where the setting WORKPRO_REQUIRE_STAFF_2FA is off, staff may set it up
themselves under "Konto".
"""

from __future__ import annotations

import base64
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, Max, OuterRef
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from ...access import has_admin_access, two_factor_required
from ...selectors.institutions import two_factor_colleagues
from ...services import audit
from ...services import two_factor as service
from ...services.two_factor import TwoFactorError

DEVICE_NAME = service.DEVICE_NAME
# Session keys: the token of the link this session opened, and recovery codes to show once.
ENROLMENT_KEY = "workpro_2fa_enrolment"
CODES_KEY = "workpro_2fa_recovery_codes"


class TokenForm(forms.Form):
    token = forms.CharField(
        label=gettext_lazy("Code aus der Authenticator-App"), max_length=12,
        help_text=gettext_lazy("Sechs Ziffern, zum Beispiel 123456."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric",
                                      "autofocus": True}),
    )

    def clean_token(self):
        value = "".join(self.cleaned_data["token"].split())
        if not value.isdigit() or len(value) != 6:
            raise forms.ValidationError(_("Bitte geben Sie den sechsstelligen Code aus Ihrer App ein."))
        return value


class LoginCodeForm(forms.Form):
    """The code page: six digits from the app, or a recovery code (e.g. ``abcd-efgh``)."""

    token = forms.CharField(
        label=gettext_lazy("Code aus der Authenticator-App oder Wiederherstellungscode"), max_length=12,
        help_text=gettext_lazy("Sechs Ziffern aus der App, zum Beispiel 123456, oder einer Ihrer "
                               "Wiederherstellungscodes, zum Beispiel abcd-efgh."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True}),
    )

    def clean_token(self):
        value = service.normalize_code(self.cleaned_data["token"])
        if len(value) == 6 and value.isascii() and value.isdigit():
            self.kind = "totp"
        elif len(value) == 8 and all(ch in "abcdefghijklmnopqrstuvwxyz234567" for ch in value):
            self.kind = "recovery"
        else:
            raise forms.ValidationError(_("Bitte geben Sie den sechsstelligen Code aus Ihrer App oder einen "
                                          "Wiederherstellungscode ein."))
        return value


WRONG_CODE = gettext_lazy("Der Code ist nicht korrekt oder abgelaufen. Bitte geben Sie den aktuellen Code aus "
                          "Ihrer App ein.")
WRONG_RECOVERY = gettext_lazy("Dieser Wiederherstellungscode ist nicht gültig oder wurde schon verwendet.")


def throttled_message(until) -> str:
    """When the next code may be tried, in words (the wait is capped: service.lockout_cap)."""
    seconds = max(1, int((until - timezone.now()).total_seconds() + 0.999)) if until else 1
    if seconds < 60:
        return ngettext("Zu viele falsche Codes hintereinander. Bitte warten Sie %(seconds)d Sekunde und "
                        "versuchen Sie es dann erneut.",
                        "Zu viele falsche Codes hintereinander. Bitte warten Sie %(seconds)d Sekunden und "
                        "versuchen Sie es dann erneut.", seconds) % {"seconds": seconds}
    return _("Zu viele falsche Codes hintereinander. Sie können es ab %(time)s Uhr erneut versuchen.") % {
        "time": timezone.localtime(until).strftime("%H:%M")}


def _next_url(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    # Only a path on this site: redirect() would take "0" or "home" for a URL name (NoReverseMatch: a 500).
    if target.startswith("/") and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                                  require_https=request.is_secure()):
        return target
    return reverse("wagtailadmin_home")


def _with_next(name: str, request, **kwargs) -> str:
    return f"{reverse(name, kwargs=kwargs or None)}?{urlencode({'next': _next_url(request)})}"


def _totp_device(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def _qr_data_uri(url: str) -> str:
    import qrcode
    import qrcode.image.svg

    image = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    return "data:image/svg+xml;base64," + base64.b64encode(image.to_string()).decode("ascii")


def _grouped_secret(device: TOTPDevice) -> str:
    secret = base64.b32encode(device.bin_key).decode("ascii").rstrip("=")
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def _masked(email: str) -> str:
    """k***@kita.example: enough to recognise one's own address on a page an intruder may see."""
    local, _at, domain = (email or "").partition("@")
    return f"{local[:1]}***@{domain}" if domain else ""


def _check_token(device, token: str, form, request) -> bool:
    ok, until = service.verify(device, token)
    if ok:
        return True
    form.add_error("token", throttled_message(until) if until else WRONG_CODE)
    audit.record(audit.A.TWO_FACTOR_FAILED, request=request, obj=device,
                 detail={"step": "setup" if not device.confirmed else "verify", "throttled": until is not None})
    return False


def _leave_when_enrolled(request):
    """Who already has the app set up does not set up a second one behind it."""
    if request.user.is_verified():
        return redirect("workpro_admin:two_factor")
    return redirect(_with_next("workpro_admin:two_factor_verify", request))


@sensitive_post_parameters("token")
@never_cache
@require_http_methods(["GET", "POST"])
def two_factor_setup(request):
    """Einrichten: with a session that opened the mailed link, a new TOTP secret confirmed by the first
    code from the app; without one, the offer to mail that link."""
    user = request.user
    if not has_admin_access(user):
        return redirect("wagtailadmin_login")
    if service.has_totp(user):
        return _leave_when_enrolled(request)
    enrolment = service.enrolment_pending(user=user, token=request.session.get(ENROLMENT_KEY))
    device = service.pending_device(user) if enrolment is not None else None
    if device is None:
        return TemplateResponse(request, "workpro_plugin/admin/two_factor_enrol.html", {
            "next": _next_url(request), "required": two_factor_required(), "email": _masked(user.email),
            "hours": service.link_hours(),
        }, status=400 if request.method == "POST" else 200)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and _check_token(device, form.cleaned_data["token"], form, request):
        try:
            enrolled = service.enrolment_complete(user=user, enrolment=enrolment, device=device)
        except TwoFactorError as exc:
            messages.error(request, str(exc))
            return redirect(_with_next("workpro_admin:two_factor_setup", request))
        request.session.pop(ENROLMENT_KEY, None)
        otp_login(request, enrolled.device)
        request.session[CODES_KEY] = enrolled.recovery_codes
        messages.success(request, _("Die Zwei-Faktor-Authentifizierung ist eingerichtet. Bei jeder Anmeldung "
                                    "fragen wir jetzt nach einem Code aus Ihrer App."))
        return redirect(_with_next("workpro_admin:two_factor_recovery", request))
    return TemplateResponse(request, "workpro_plugin/admin/two_factor_setup.html", {
        "form": form, "qr_code": _qr_data_uri(device.config_url), "secret": _grouped_secret(device),
        "otpauth_url": device.config_url, "next": _next_url(request), "required": two_factor_required(),
    }, status=400 if form.errors else 200)


@never_cache
@require_POST
def two_factor_link_request(request):
    """"Einrichtungslink senden": a one-time link to the account's own mail address."""
    user = request.user
    if not has_admin_access(user):
        return redirect("wagtailadmin_login")
    if service.has_totp(user):
        return _leave_when_enrolled(request)
    try:
        service.enrolment_request(user=user, by=user)
    except TwoFactorError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, ngettext(
            "Wir haben Ihnen einen Link an %(email)s geschickt. Öffnen Sie ihn innerhalb einer Stunde in diesem "
            "Browser, solange Sie angemeldet sind.",
            "Wir haben Ihnen einen Link an %(email)s geschickt. Öffnen Sie ihn innerhalb von %(hours)d Stunden in "
            "diesem Browser, solange Sie angemeldet sind.", service.link_hours()) % {
            "email": _masked(user.email), "hours": service.link_hours()})
    return redirect(_with_next("workpro_admin:two_factor_setup", request))


@never_cache
@require_http_methods(["GET", "POST"])
def two_factor_link(request, token: str):
    """The mailed link: GET asks to confirm (mail scanners open links), POST uses it up for this session."""
    user = request.user
    if not has_admin_access(user):
        return redirect("wagtailadmin_login")
    if service.has_totp(user):
        return _leave_when_enrolled(request)
    try:
        if request.method == "POST":
            service.enrolment_open(user=user, token=token)
            request.session[ENROLMENT_KEY] = token
            return redirect("workpro_admin:two_factor_setup")
        service.enrolment_check(user=user, token=token)
    except TwoFactorError as exc:
        return TemplateResponse(request, "workpro_plugin/admin/two_factor_link.html", {"error": str(exc)},
                                status=400)
    return TemplateResponse(request, "workpro_plugin/admin/two_factor_link.html", {"error": ""})


@sensitive_post_parameters("token")
@never_cache
@require_http_methods(["GET", "POST"])
def two_factor_verify(request):
    """Code eingeben: once per login, before any other admin page; a recovery code works once instead."""
    user = request.user
    if not has_admin_access(user):
        return redirect("wagtailadmin_login")
    totp_device = _totp_device(user)
    if totp_device is None:
        return redirect(_with_next("workpro_admin:two_factor_setup", request))
    if user.is_verified():
        return redirect(_next_url(request))
    form = LoginCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        token = form.cleaned_data["token"]
        recovery = form.kind == "recovery"
        device = service.recovery_device(user) if recovery else totp_device
        ok, until = service.verify(device, token) if device is not None else (False, None)
        if ok:
            otp_login(request, device)
            audit.record(audit.A.TWO_FACTOR_VERIFIED, request=request, obj=device,
                         detail={"recovery_code": True} if recovery else None)
            if recovery:
                left = service.recovery_used(user=user, device=device)
                messages.warning(request, ngettext(
                    "Sie haben sich mit einem Wiederherstellungscode angemeldet; es bleibt noch %(left)d Code. "
                    "Erzeugen Sie neue Codes unter Konto → Zwei-Faktor-Authentifizierung.",
                    "Sie haben sich mit einem Wiederherstellungscode angemeldet; es bleiben noch %(left)d Codes. "
                    "Erzeugen Sie neue Codes unter Konto → Zwei-Faktor-Authentifizierung.", left) % {"left": left})
            return redirect(_next_url(request))
        form.add_error("token", throttled_message(until) if until else (WRONG_RECOVERY if recovery else WRONG_CODE))
        audit.record(audit.A.TWO_FACTOR_FAILED, request=request, obj=device or totp_device,
                     detail={"step": "recovery" if recovery else "verify", "throttled": until is not None})
    return TemplateResponse(request, "workpro_plugin/admin/two_factor_verify.html", {
        "form": form, "next": _next_url(request),
    }, status=400 if form.errors else 200)


@never_cache
@require_http_methods(["GET", "POST"])
def two_factor_recovery(request):
    """Wiederherstellungscodes: shown once after they are made; POST makes a new set (old ones stop)."""
    user = request.user
    if not has_admin_access(user):
        return redirect("wagtailadmin_login")
    if not service.has_totp(user) or not user.is_verified():
        return redirect("workpro_admin:two_factor")
    if request.method == "POST":
        request.session[CODES_KEY] = service.recovery_codes_create(user=user)
        return redirect(_with_next("workpro_admin:two_factor_recovery", request))
    codes = request.session.pop(CODES_KEY, None)
    return TemplateResponse(request, "workpro_plugin/admin/two_factor_recovery.html", {
        "codes": codes if isinstance(codes, list) else None, "left": service.recovery_codes_left(user),
        "next": _next_url(request), "header_title": _("Wiederherstellungscodes"),
    })


@sensitive_post_parameters("token")
@never_cache
@require_http_methods(["GET", "POST"])
def two_factor_manage(request):
    """Konto → Zwei-Faktor-Authentifizierung: state, set up, or switch off where it is optional."""
    user = request.user
    device = _totp_device(user)
    required = two_factor_required()
    form = TokenForm(request.POST or None)
    if request.method == "POST":
        if device is None:
            return redirect("workpro_admin:two_factor_setup")
        if required:
            messages.error(request, _("Die Zwei-Faktor-Authentifizierung ist für Ihr Konto vorgeschrieben und "
                                      "kann nicht ausgeschaltet werden."))
            return redirect("workpro_admin:two_factor")
        if form.is_valid() and _check_token(device, form.cleaned_data["token"], form, request):
            service.devices_remove(user=user, by=user, via="account")
            messages.success(request, _("Die Zwei-Faktor-Authentifizierung ist ausgeschaltet."))
            return redirect("workpro_admin:two_factor")
    return TemplateResponse(request, "workpro_plugin/admin/two_factor_manage.html", {
        "device": device, "required": required, "form": form,
        "recovery_left": service.recovery_codes_left(user) if device else 0,
        "header_title": _("Zwei-Faktor-Authentifizierung"), "leads_staff": two_factor_colleagues(user).exists(),
    }, status=400 if form.errors else 200)


def _colleagues_or_denied(user):
    colleagues = two_factor_colleagues(user)
    if not colleagues.exists():  # neither Leitung nor superuser
        raise PermissionDenied
    return colleagues


def _name_order() -> list[str]:
    """By name where the user model has names, then by its login field (not always `username`)."""
    model = get_user_model()
    names = [f for f in ("last_name", "first_name") if any(x.name == f for x in model._meta.get_fields())]
    return [*names, model.USERNAME_FIELD]


@never_cache
@require_http_methods(["GET"])
def two_factor_staff(request):
    """Leitung and superusers: who has set up the second factor, and a button to mail someone the link."""
    colleagues = _colleagues_or_denied(request.user).annotate(
        has_app=Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)),
        last_link=Max("workpro_2fa_enrolments__created_at"),
    ).order_by(*_name_order())
    return TemplateResponse(request, "workpro_plugin/admin/two_factor_staff.html", {
        "colleagues": colleagues, "header_title": _("Zwei-Faktor-Authentifizierung der Mitarbeiter"),
    })


@never_cache
@require_POST
def two_factor_staff_link(request, pk: int):
    """Send a colleague the enrolment link: it goes to their own address, never to the sender."""
    colleague = get_object_or_404(_colleagues_or_denied(request.user), pk=pk)
    try:
        service.enrolment_request(user=colleague, by=request.user)
    except TwoFactorError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Der Einrichtungslink ist an %(email)s unterwegs.") % {"email": colleague.email})
    return redirect("workpro_admin:two_factor_staff")


def account_menu_item(request):
    """The entry under Konto (Wagtail's account page)."""
    if not has_admin_access(request.user):
        return None
    return {"url": reverse("workpro_admin:two_factor"), "label": _("Zwei-Faktor-Authentifizierung"),
            "help_text": _("Anmeldung zusätzlich mit einem Code aus einer Authenticator-App absichern.")}
