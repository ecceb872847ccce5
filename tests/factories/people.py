"""Accounts and persons: users (with their person record) and children with a guardian."""

from datetime import date, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from workpro_plugin.lib.users import login_fields
from workpro_plugin.models import Guardian, Person


def make_user(email: str, *, person: bool = True, groups=(), superuser: bool = False, **person_fields):
    user = get_user_model().objects.create(**login_fields(email), is_superuser=superuser,
                                           is_staff=superuser)
    for group in groups:
        user.groups.add(group if isinstance(group, Group) else Group.objects.get(name=group))
    if person:
        defaults = {"last_name": "Muster", "first_name": email.split("@")[0].title(),
                    "date_of_birth": date(1985, 1, 1)}
        defaults.update(person_fields)
        Person.objects.create(user=user, email=email, **defaults)
    return user


def make_child(guardian_user, **fields) -> Person:
    defaults = {"last_name": "Muster", "first_name": "Kind", "date_of_birth": timezone.localdate() - timedelta(days=3 * 365)}
    defaults.update(fields)
    child = Person.objects.create(**defaults)
    Guardian.objects.create(participant=child, guardian=guardian_user.workpro_person, is_primary=True,
                            relation="mutter")
    return child
