"""Two-factor authentication (TOTP, django-otp) for the Wagtail admin.

Setup shows a QR code and the secret, and is confirmed with a first code; the code page is
asked once per login. security.StaffTwoFactorMiddleware sends staff here; where the setting
WORKPRO_REQUIRE_STAFF_2FA is off, staff may set it up themselves under "Konto".
"""

from __future__ import annotations

import base64
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.db import transaction
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods
from django_otp import devices_for_user
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from .security import has_admin_access, two_factor_required
from .services import audit

DEVICE_NAME = "WorkPro"


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


WRONG_CODE = gettext_lazy("Der Code ist nicht korrekt oder abgelaufen. Bitte geben Sie den aktuellen Code aus "
                          "Ihrer App ein.")
THROTTLED = gettext_lazy("Zu viele falsche Codes hintereinander. Bitte warten Sie einen Moment und versuchen Sie "
                         "es dann erneut.")


def _next_url(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    # Only a path on this site: redirect() would take "0" or "home" for a URL name (NoReverseMatch: a 500).
    if target.startswith("/") and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                                  require_https=request.is_secure()):
        return target
    return reverse("wagtailadmin_home")


def _confirmed_devices(user) -> list:
    return list(devices_for_user(user, confirmed=True))


def _qr_data_uri(url: str) -> str:
    import qrcode
    import qrcode.image.svg

    image = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    return "data:image/svg+xml;base64," + base64.b64encode(image.to_string()).decode("ascii")


def _grouped_secret(device: TOTPDevice) -> str:
    secret = base64.b32encode(device.bin_key).decode("ascii").rstrip("=")
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def _check_token(device, token: str, form: TokenForm, request) -> bool:
    allowed, _info = device.verify_is_allowed()
    if allowed and device.verify_token(token):
        return True
    form.add_error("token", WRONG_CODE if allowed else THROTTLED)
    audit.record(audit.A.TWO_FACTOR_FAILED, request=request, obj=device,
                 detail={"step": "setup" if not device.confirmed else "verify", "throttled": not allowed})
    return False


@sensitive_post_parameters("token")
@never_cache
@require_http_methods(["GET", "POST"])
def two_factor_setup(request):
    """Einrichten: a new TOTP secret, confirmed by the first code from the app."""
    user = request.user
    if not has_admin_access(user):
        return redirect("wagtailadmin_login")
    if _confirmed_devices(user):
        if user.is_verified():
            return redirect("workpro_admin:two_factor")
        return redirect(f"{reverse('workpro_admin:two_factor_verify')}?{urlencode({'next': _next_url(request)})}")
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and _check_token(device, form.cleaned_data["token"], form, request):
        with transaction.atomic():
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            TOTPDevice.objects.filter(user=user, confirmed=False).delete()
            audit.record(audit.A.TWO_FACTOR_ENABLED, request=request, obj=device)
        otp_login(request, device)
        messages.success(request, _("Die Zwei-Faktor-Authentifizierung ist eingerichtet. Bei jeder Anmeldung "
                                    "fragen wir jetzt nach einem Code aus Ihrer App."))
        return redirect(_next_url(request))
    return TemplateResponse(request, "workpro_plugin/admin/two_factor_setup.html", {
        "form": form, "qr_code": _qr_data_uri(device.config_url), "secret": _grouped_secret(device),
        "otpauth_url": device.config_url, "next": _next_url(request), "required": two_factor_required(),
    }, status=400 if form.errors else 200)


@sensitive_post_parameters("token")
@never_cache
@require_http_methods(["GET", "POST"])
def two_factor_verify(request):
    """Code eingeben: once per login, before any other admin page."""
    user = request.user
    if not has_admin_access(user):
        return redirect("wagtailadmin_login")
    devices = _confirmed_devices(user)
    if not devices:
        return redirect(f"{reverse('workpro_admin:two_factor_setup')}?{urlencode({'next': _next_url(request)})}")
    if user.is_verified():
        return redirect(_next_url(request))
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        token = form.cleaned_data["token"]
        allowed = [d for d in devices if d.verify_is_allowed()[0]]
        device = next((d for d in allowed if d.verify_token(token)), None)
        if device is not None:
            otp_login(request, device)
            audit.record(audit.A.TWO_FACTOR_VERIFIED, request=request, obj=device)
            return redirect(_next_url(request))
        throttled = not allowed
        form.add_error("token", THROTTLED if throttled else WRONG_CODE)
        audit.record(audit.A.TWO_FACTOR_FAILED, request=request, obj=devices[0],
                     detail={"step": "verify", "throttled": throttled})
    return TemplateResponse(request, "workpro_plugin/admin/two_factor_verify.html", {
        "form": form, "next": _next_url(request),
    }, status=400 if form.errors else 200)


@sensitive_post_parameters("token")
@never_cache
@require_http_methods(["GET", "POST"])
def two_factor_manage(request):
    """Konto → Zwei-Faktor-Authentifizierung: state, set up, or switch off where it is optional."""
    user = request.user
    devices = _confirmed_devices(user)
    required = two_factor_required()
    form = TokenForm(request.POST or None)
    if request.method == "POST":
        if not devices:
            return redirect("workpro_admin:two_factor_setup")
        if required:
            messages.error(request, _("Die Zwei-Faktor-Authentifizierung ist für Ihr Konto vorgeschrieben und "
                                      "kann nicht ausgeschaltet werden."))
            return redirect("workpro_admin:two_factor")
        if form.is_valid() and _check_token(devices[0], form.cleaned_data["token"], form, request):
            with transaction.atomic():
                TOTPDevice.objects.filter(user=user).delete()
                audit.record(audit.A.TWO_FACTOR_DISABLED, request=request, object_type="otp_totp.totpdevice",
                             object_id=str(devices[0].pk))
            messages.success(request, _("Die Zwei-Faktor-Authentifizierung ist ausgeschaltet."))
            return redirect("workpro_admin:two_factor")
    return TemplateResponse(request, "workpro_plugin/admin/two_factor_manage.html", {
        "device": devices[0] if devices else None, "required": required, "form": form,
        "header_title": _("Zwei-Faktor-Authentifizierung"),
    }, status=400 if form.errors else 200)


def account_menu_item(request):
    """The entry under Konto (Wagtail's account page)."""
    if not has_admin_access(request.user):
        return None
    return {"url": reverse("workpro_admin:two_factor"), "label": _("Zwei-Faktor-Authentifizierung"),
            "help_text": _("Anmeldung zusätzlich mit einem Code aus einer Authenticator-App absichern.")}
