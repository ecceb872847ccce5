"""Registrieren: an anonymous visitor registers on an offer page and gets an account by mail."""

from __future__ import annotations

from django.shortcuts import redirect, render
from django.template.response import TemplateResponse
from django.utils import translation
from django.utils.translation import gettext as _

from ...lib.http import client_ip
from ...models.page_forms import RegistrationForm
from ...services.accounts import (
    RateLimited,
    account_register,
    check_registration_rate,
    check_request_rate,
)


def register(request, offer, *args, **kwargs):
    """The "Registrieren" form of an offer page, posted by an anonymous visitor.

    Reached through the `before_serve_page` hook (wagtail_hooks), so the form posts to the offer's
    own URL; a refused form is shown again on the offer page with status 400.
    """
    form = RegistrationForm(request.POST)
    state = offer.registration_state()
    if not state.is_open:
        form.add_error(None, state.reason)
    elif form.is_valid():
        try:
            check_request_rate(client_ip(request) or "", limit=20, scope="register-ip")
            check_registration_rate(form.cleaned_data["email"])  # addresses can be rotated
        except RateLimited as refused:
            if refused.scope == "register-email":
                form.add_error("email", _("Für diese Mailadresse gab es zu viele Registrierungen. "
                                          "Bitte versuchen Sie es später erneut."))
            else:
                form.add_error(None, _("Zu viele Registrierungen von diesem Anschluss. "
                                       "Bitte später erneut versuchen."))
        else:
            data = form.cleaned_data
            account_register(offer=offer, last_name=data["last_name"], first_name=data["first_name"],
                             email=data["email"], language=translation.get_language() or "de",
                             privacy_text=form.fields["privacy"].label, ip=client_ip(request))
            request.session["workpro_registered_email"] = data["email"]
            request.session["workpro_registered_offer"] = offer.title
            return redirect("workpro:registration_done")
    context = offer.get_context(request, *args, registration_form=form, **kwargs)
    return TemplateResponse(request, offer.get_template(request, *args, **kwargs), context, status=400)


def registration_done(request):
    return render(request, "workpro_plugin/account/registration_done.html", {
        "email": request.session.get("workpro_registered_email", ""),
        "offer_title": request.session.get("workpro_registered_offer", ""),
    })
