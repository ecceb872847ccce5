"""Demo of the Platzvergabe: KiTa Regenbogen's two full Krippen, its Kriterienkatalog, six families
with ranked wishes (the demo parent's Lena among them) and one confirmed Vergaberunde.

Outcome (fixed lottery numbers, so every `make run` shows the same): Regenbogenkinder (3 places)
goes to Emil, Linh and Defne; Wolkenkinder (2 places) to Mats (Härtefall) and Lena, whose first
wish Regenbogenkinder keeps her as number 2 on its waiting list, behind Ben.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from workpro_plugin.lib.users import login_fields
from workpro_plugin.models import (
    AllocationRound,
    Criterion,
    Enrollment,
    EnrollmentSection,
    Guardian,
    Institution,
    OfferPage,
    Person,
)
from workpro_plugin.services import allocation as allocation_svc
from workpro_plugin.services import enrollments as svc
from workpro_site.demo_dates import years_before
from workpro_site.demo_questions import answer_demo_questions

ROUND_TITLE = "Krippenplätze ab August"

CRITERIA = [
    (Criterion.Kind.SIBLING, "Geschwisterkind in der Einrichtung", 20, ""),
    (Criterion.Kind.HARDSHIP, "Härtefall (von der Einrichtung bestätigt)", 30, ""),
    (Criterion.Kind.RESIDENCE, "Wohnsitz im Stadtteil Zentrum-Nord (04105)", 10, "04105"),
    (Criterion.Kind.EMPLOYMENT, "Beide Sorgeberechtigte berufstätig oder in Ausbildung", 10, ""),
]

# (parent first name, last name, child, postcode, wishes best first, lottery number, confirmed criterion, reason)
FAMILIES = [
    ("Jana", "Hoffmann", "Emil", "04105", ["krippe-regenbogenkinder", "krippe-wolkenkinder"], 118,
     Criterion.Kind.EMPLOYMENT, "Arbeitgeberbescheinigungen beider Eltern liegen vor."),
    ("Ayşe", "Yılmaz", "Defne", "04105", ["krippe-regenbogenkinder"], 314, None, ""),
    ("Tom", "Schulz", "Mats", "04105", ["krippe-wolkenkinder", "krippe-regenbogenkinder"], 655,
     Criterion.Kind.HARDSHIP, "Alleinerziehend im Schichtdienst, Bescheinigung des Jugendamts liegt vor."),
    ("Mai", "Nguyen", "Linh", "04105", ["krippe-regenbogenkinder", "krippe-wolkenkinder"], 271, None, ""),
    ("Sven", "Richter", "Ben", "04109", ["krippe-regenbogenkinder"], 577, None, ""),
]
LENA_WISHES = (["krippe-regenbogenkinder", "krippe-wolkenkinder"], 802)


def _apply(offer: OfferPage, parent, child: Person, rank: int, lottery: int) -> Enrollment:
    enrollment = svc.enrollment_start(offer=offer, participant=child, by=parent)
    EnrollmentSection.objects.update_or_create(enrollment=enrollment, section="personal", defaults={
        "is_complete": True, "data": {
            "last_name": child.last_name, "first_name": child.first_name,
            "date_of_birth": child.date_of_birth.isoformat(), "street": child.street, "postcode": child.postcode,
            "city": child.city, "email": "", "mobile": ""}})
    EnrollmentSection.objects.update_or_create(enrollment=enrollment, section="guardians", defaults={
        "is_complete": True, "data": {"guardians": []}})
    answer_demo_questions(enrollment, parent, phase=1)
    svc.enrollment_mark_printed(enrollment=enrollment, by=parent)
    svc.enrollment_submit(enrollment=enrollment, by=parent)
    Enrollment.objects.filter(pk=enrollment.pk).update(wish_rank=rank, lottery_number=lottery,
                                                       care_hours=35 if offer.asks_care_hours else None)
    return enrollment


@transaction.atomic
def ensure_allocation_demo(demo_parent) -> None:
    institution = Institution.objects.get(slug="kita-regenbogen")
    if AllocationRound.objects.filter(title=ROUND_TITLE).exists():
        return  # the round ran once; families and their choices since belong to whoever clicked
    for position, (kind, label, points, parameter) in enumerate(CRITERIA):
        Criterion.objects.update_or_create(institution=institution, kind=kind, offer=None, defaults={
            "label": label, "points": points, "parameter": parameter, "sort_order": position})
    offers = {o.slug: o for o in OfferPage.objects.filter(slug__in=["krippe-regenbogenkinder", "krippe-wolkenkinder"])}
    lead = get_user_model().objects.get(**login_fields("leitung@kita-regenbogen.example"))
    today = timezone.localdate()
    User = get_user_model()
    for first, last, child_name, postcode, wishes, lottery, confirmed, reason in FAMILIES:
        email = f"{first.lower()}.{last.lower()}@example.org".replace("ş", "s").replace("ı", "i")
        parent = User.objects.filter(**login_fields(email)).first()
        if parent is None:
            parent = User.objects.create(**login_fields(email), first_name=first, last_name=last)
            parent.set_unusable_password()
            parent.save()
        holder = Person.objects.filter(user=parent).first() or Person.objects.create(
            user=parent, first_name=first, last_name=last, email=email, date_of_birth=years_before(today, 33),
            street="Auenweg 9", postcode=postcode, city="Leipzig")
        child = Person.objects.create(first_name=child_name, last_name=last, date_of_birth=years_before(today, 1),
                                      street=holder.street, postcode=postcode, city="Leipzig")
        Guardian.objects.create(participant=child, guardian=holder, relation="mutter", is_primary=True)
        applied = [_apply(offers[slug], parent, child, rank, lottery) for rank, slug in enumerate(wishes, start=1)]
        if confirmed:
            criterion = Criterion.objects.get(institution=institution, kind=confirmed)
            for enrollment in applied:
                allocation_svc.criterion_confirm(enrollment=enrollment, criterion=criterion, reason=reason, by=lead)
    lena = Person.objects.filter(first_name="Lena", guardianships__guardian__user=demo_parent).first()
    if lena is not None:
        slugs, lottery = LENA_WISHES
        for rank, slug in enumerate(slugs, start=1):
            _apply(offers[slug], demo_parent, lena, rank, lottery)
    round_ = allocation_svc.round_create(title=ROUND_TITLE, stichtag=today, offers=list(offers.values()), by=lead)
    allocation_svc.round_confirm(round_=round_, by=lead)
