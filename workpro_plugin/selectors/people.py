"""People as staff see them: the persons of their institutions' enrollments."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from ..models import Institution, Person
from .institutions import staff_institutions


def _of_institutions(institutions) -> Q:
    """Participants of the institutions' enrollments, their account holders, and the guardians of those
    participants."""
    return (Q(enrollments__institution__in=institutions)
            | Q(user__workpro_enrollments__institution__in=institutions)
            | Q(wards__participant__enrollments__institution__in=institutions))


def staff_people(user) -> QuerySet:
    """The persons `user` sees in Kunden/Teilnehmer (all for superusers)."""
    return Person.objects.filter(_of_institutions(staff_institutions(user))).distinct()


def person_institutions(person: Person) -> QuerySet:
    """The institutions `person` has an enrollment with, as participant, account holder or guardian."""
    where = Q(enrollments__participant=person) | Q(enrollments__participant__guardianships__guardian=person)
    if person.user_id:
        where |= Q(enrollments__account_holder_id=person.user_id)
    return Institution.objects.filter(where).distinct()
