"""Data protection in the portal and the admin: download all data of a person as a ZIP."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_POST

from ...models import Person
from ...services import privacy
from ...shared.files import private_file_response
from ..shortcuts import LOGIN_URL


def _zip_response(export: privacy.Export):
    return private_file_response(export.file, content_type="application/zip", as_attachment=True,
                                 filename=export.filename)


@login_required(login_url=LOGIN_URL)
@require_POST
def data_export(request):
    """Meine Daten herunterladen: the account holder's own data or a ward's (PSB1); anyone else: 404."""
    allowed = {person.pk: person for person in privacy.portal_exportable_people(request.user)}
    try:
        person = allowed[int(request.POST.get("person", ""))]
    except (KeyError, ValueError):
        raise Http404 from None
    return _zip_response(privacy.person_export(person=person, by=request.user, via="portal"))


@require_POST
def admin_person_export(request, pk: int):
    """Staff of an institution the person has an enrollment with, and superusers; for anyone else
    the person does not exist (404). Staff get what belongs to their institutions, superusers
    (and the person themself) everything."""
    person = get_object_or_404(Person, pk=pk)
    if not privacy.staff_may_export(request.user, person):
        raise Http404
    return _zip_response(privacy.person_export(person=person, by=request.user, via="admin",
                                               institutions=privacy.export_scope(request.user, person)))
