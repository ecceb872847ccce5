"""Meine Daten herunterladen (all data of the account holder or a ward as a ZIP) and Konto löschen."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from ...services import privacy
from ...services.accounts import account_request_erasure
from ...shared.files import export_response
from ..forms.accounts import AccountDeleteForm
from ..shortcuts import LOGIN_URL


@login_required(login_url=LOGIN_URL)
@require_POST
def data_export(request):
    """Meine Daten herunterladen: the account holder's own data or a ward's (PSB1); anyone else: 404."""
    allowed = {person.pk: person for person in privacy.portal_exportable_people(request.user)}
    try:
        person = allowed[int(request.POST.get("person", ""))]
    except (KeyError, ValueError):
        raise Http404 from None
    return export_response(privacy.person_export(person=person, by=request.user, via="portal"))


@sensitive_post_parameters()
@login_required(login_url=LOGIN_URL)
@require_http_methods(["GET", "POST"])
def account_delete(request):
    """Konto löschen: with the current password; what is erased at once and what is kept is shown first."""
    if getattr(request.user, "workpro_person", None) is None:
        raise Http404
    form = AccountDeleteForm(request.POST if request.method == "POST" else None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            account_request_erasure(user=request.user)
        except privacy.ErasureRefused as exc:
            form.add_error(None, str(exc))
        else:
            logout(request)
            messages.success(request, _("Ihr Konto wurde gelöscht. Eine Bestätigung mit den Einzelheiten ist an "
                                        "Ihre Mailadresse unterwegs."))
            return redirect("workpro:login")
    people = privacy.erasure_subjects(request.user)
    return render(request, "workpro_plugin/account/account_delete.html", {
        "form": form, "erased": privacy.ERASED_NOW,
        "kept": [item for person in people for item in privacy.erasure_kept(person)],
        "wards": people[1:],
    }, status=400 if form.errors else 200)
