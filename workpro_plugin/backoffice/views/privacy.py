"""Daten exportieren in the admin: a person's data as a ZIP, scoped to the staff member's institutions."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_POST

from ...models import Person
from ...services import privacy
from ...shared.files import export_response


@require_POST
def admin_person_export(request, pk: int):
    """Staff of an institution the person has an enrollment with, and superusers; for anyone else
    the person does not exist (404). Staff get what belongs to their institutions, superusers
    (and the person themself) everything."""
    person = get_object_or_404(Person, pk=pk)
    if not privacy.staff_may_export(request.user, person):
        raise Http404
    return export_response(privacy.person_export(person=person, by=request.user, via="admin",
                                               institutions=privacy.export_scope(request.user, person)))
