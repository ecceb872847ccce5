"""Families for the staff's everyday help (#21): a holder with a stored mobile, a Krippe with several families."""

from tests.factories.enrollments import S, enrollment_in
from tests.factories.offers import make_offer
from tests.factories.people import make_child, make_user
from workpro_plugin.models import Person

MOBILE = "+4915123456789"


def helped_family(world):
    """The holder (PSB1 of Lena, Bewerberin at the KiTa) with a stored mobile and address."""
    world.person = world.holder.workpro_person
    Person.objects.filter(pk=world.person.pk).update(mobile=MOBILE, street="Alte Str. 1", postcode="10115",
                                                     city="Berlin", language="de")
    world.person.refresh_from_db()
    world.child = make_child(world.holder, first_name="Lena")
    world.enrollment = enrollment_in(S.BEWERBER, offer=world.offer, institution=world.kita, holder=world.holder,
                                     participant=world.child)
    return world


def krippe_families(world):
    """At the KiTa's Krippe: the holder with two children (Bewerber), the stranger's child (Bewerber), a third
    family (Kandidat) and a withdrawn one; at the other institution one Bewerber."""
    world.lena = enrollment_in(S.BEWERBER, offer=world.offer, institution=world.kita, holder=world.holder,
                               participant=make_child(world.holder, first_name="Lena"))
    world.tom = enrollment_in(S.BEWERBER, offer=world.offer, institution=world.kita, holder=world.holder,
                              participant=make_child(world.holder, first_name="Tom"))
    world.fremd = enrollment_in(S.BEWERBER, offer=world.offer, institution=world.kita, holder=world.stranger,
                                participant=make_child(world.stranger, first_name="Mia"))
    third = make_user("dritte@example.org")
    world.kandidat = enrollment_in(S.KANDIDAT, offer=world.offer, institution=world.kita, holder=third,
                                   participant=make_child(third, first_name="Ole"))
    gone = make_user("weg@example.org")
    enrollment_in(S.ZURUECKGEZOGEN, offer=world.offer, institution=world.kita, holder=gone,
                  participant=make_child(gone, first_name="Ida"))
    world.foreign_offer = make_offer(world.other, "Ausbildung")
    other = make_user("azubi@example.org")
    world.foreign = enrollment_in(S.BEWERBER, offer=world.foreign_offer, institution=world.other, holder=other)
    return world


def families_in_offer(institution, offer_title, count, prefix):
    """A new offer of `institution` with `count` families (one Bewerber child each)."""
    offer = make_offer(institution, offer_title)
    for i in range(count):
        user = make_user(f"{prefix}{count}-{i}@example.org")
        enrollment_in(S.BEWERBER, offer=offer, institution=institution, holder=user,
                      participant=make_child(user, first_name=f"K{i}"))
    return offer
