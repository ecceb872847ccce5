"""Meine Daten herunterladen: all data of the account holder or a ward as a ZIP."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.views.decorators.http import require_POST

from ...services import privacy
from ...shared.files import export_response
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
