"""Customer and contract numbers: allocated race-free and gap-free."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from ..models import Enrollment, Institution, NumberSequence, Person


def next_number(key: str) -> int:
    """Increment the counter `key` under a row lock; must run inside the using transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("next_number() must run inside transaction.atomic()")
    NumberSequence.objects.bulk_create([NumberSequence(key=key)], ignore_conflicts=True)
    sequence = NumberSequence.objects.select_for_update().get(key=key)
    sequence.last_value += 1
    sequence.save(update_fields=["last_value"])
    return sequence.last_value


def assign_customer_number(person: Person, institution: Institution) -> str:
    """A person gets a customer number once and keeps it for every later contract."""
    if person.customer_number:
        return person.customer_number
    operator = institution.operator
    number = next_number(f"customer:{operator.pk}")
    person.customer_number = operator.customer_number_format.format(number=number)
    person.save(update_fields=["customer_number", "updated_at"])
    return person.customer_number


def assign_contract_number(enrollment: Enrollment) -> str:
    """One contract number per enrollment, counted per institution and year."""
    if enrollment.contract_number:
        return enrollment.contract_number
    institution = enrollment.institution
    year = timezone.localdate().year
    number = next_number(f"contract:{institution.pk}:{year}")
    enrollment.contract_number = institution.format_contract_number(year=year, number=number)
    return enrollment.contract_number
