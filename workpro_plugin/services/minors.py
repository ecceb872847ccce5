"""Minors: the participant's own login, coming of age, Notfallkontakt and Abholberechtigte.

A participant under 18 is represented by PSB1. On the 18th birthday the participant
becomes the contact (account holder of their contracts, if they have an own login);
30 days later every guardian's access ends. A daily schedule runs `coming_of_age`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, timedelta

from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import conf
from ..access import PortalRole, portal_role, sees_ward_login, speaks_for
from ..lib.users import by_login, login_fields
from ..models import (
    STANDING_STATUSES,
    EmergencyContact,
    Enrollment,
    EnrollmentStatus,
    Guardian,
    Person,
    PickupPerson,
)
from ..models.care import photo_validity_months
from ..selectors.chat import portal_conversations
from ..selectors.documents import portal_documents
from ..selectors.enrollments import portal_enrollments
from . import privacy
from .accounts import _issue_password, normalize_email
from .apps import app_tiles
from .documents import UploadError, check_upload
from .enrollments import CARE_STATUSES, log, notify
from .errors import ServiceError
from .images import ImageRefused, clean_image
from .notify import queue_mail

S = EnrollmentStatus
HANDOVER_NOTICE_DAYS = 14
GUARDIAN_GRACE_DAYS = 30
CARE_REMINDER_DAYS = (14, 3)
PHOTO_MIN_SIDE = 200
PHOTO_MAX_SIDE = 1200


class MinorsError(ServiceError):
    """A refused action; the message is shown to the user."""


# --- the participant's own login --------------------------------------------------------------

def minor_login_min_age() -> int:
    return int(conf.get("MINOR_LOGIN_MIN_AGE"))


def own_login_refusal(participant: Person, today: date | None = None) -> str:
    """Why `participant` may not (yet) get an own login, in German; "" when they may (`participant`: a Person,
    or what answers `full_name` and `age_on` as one does).

    Younger than WORKPRO_MINOR_LOGIN_MIN_AGE (default 14): no own login, the PSB1 alone uses WorkPro.
    """
    minimum = minor_login_min_age()
    age = participant.age_on(today or timezone.localdate())
    if age is None:
        return _("Ein eigener Zugang ist erst ab %(age)s Jahren möglich; für %(name)s ist kein Geburtsdatum "
                 "hinterlegt.") % {"age": minimum, "name": participant.full_name}
    if age < minimum:
        return _("Ein eigener Zugang ist erst ab %(age)s Jahren möglich. %(name)s ist %(current)s Jahre alt.") % {
            "age": minimum, "name": participant.full_name, "current": age}
    return ""


@transaction.atomic
def participant_assign_login(*, participant: Person, email: str, by) -> Person:
    """PSB1 gives the participant an own login: apps, messages and own documents, no contract actions.

    The participant gets an issued password by mail (valid 72 hours, only to choose an own one).
    """
    participant = Person.objects.select_for_update().get(pk=participant.pk)
    if participant.user_id is not None:
        raise MinorsError(_("%(name)s hat bereits einen eigenen Zugang.") % {"name": participant.full_name})
    if not speaks_for(by, participant):
        raise MinorsError(_("Diese Aktion ist Ihnen nicht erlaubt."))
    refusal = own_login_refusal(participant)
    if refusal:
        raise MinorsError(refusal)
    email = normalize_email(email)
    User = get_user_model()
    if User.objects.filter(by_login(email) | Q(email__iexact=email)).exists():
        raise MinorsError(_("Diese Mailadresse wird bereits für ein anderes Konto verwendet."))
    user = User.objects.create(**login_fields(email), first_name=participant.first_name,
                               last_name=participant.last_name)
    participant.user = user
    participant.email = email
    participant.save(update_fields=["user", "email", "updated_at"])
    password = _issue_password(participant)
    institution = _institution_of(participant)
    queue_mail(to=email, template="participant_access", language=participant.language, institution=institution,
               person=participant, secret_keys=("password",),
               context={"first_name": participant.first_name, "last_name": participant.last_name, "email": email,
                        "password": password, "guardian": by.get_full_name() or by.email,
                        "login_url": reverse("workpro:login"),
                        "password_request_url": reverse("workpro:password_request")})
    for enrollment in Enrollment.objects.filter(participant=participant):
        log(enrollment, action="participant_login", by=by, note=email)
    if participant.came_of_age_at is not None:
        _hand_contracts_to(participant, by=by)
    return participant


def with_login_refusals(rows):
    """`rows` (a page of the wards table of Mein Konto: selectors.enrollments.WardRow, which answers as the
    ward's Person does), each knowing whether an own login may be given (`login_refusal`: "" or why not)."""
    today = timezone.localdate()
    rows = list(rows)
    for row in rows:
        row.login_refusal = own_login_refusal(row, today)
    return rows


@dataclass(frozen=True)
class MinorView:
    """What a participant's own login shows, for the PSB1 to see."""

    participant: Person
    email: str
    participations: list
    documents: list
    apps: list
    conversations: list


def minor_view(*, participant: Person, by) -> MinorView:
    """The PSB1 sees what the ward's own login sees: the same selectors, called for the ward's account."""
    if participant.user_id is None or not sees_ward_login(by, participant):
        raise MinorsError(_("Diese Aktion ist Ihnen nicht erlaubt."))
    user = participant.user
    participations = list(portal_enrollments(user).select_related("offer", "institution").order_by("-created_at"))
    documents = list(portal_documents(user).filter(superseded=False).order_by("-deposited_at"))
    apps = [tile.app for group in app_tiles(user) if group.person.pk == participant.pk for tile in group.tiles]
    conversations = list(portal_conversations(user))
    return MinorView(participant=participant, email=user.email, participations=participations,
                     documents=documents, apps=apps, conversations=conversations)


# --- coming of age ------------------------------------------------------------------------

def _institution_of(person: Person):
    enrollment = (Enrollment.objects.filter(participant=person).select_related("institution__site")
                  .order_by("-created_at").first())
    return enrollment.institution if enrollment else None


def _guardian_users(person: Person) -> list:
    return [link.guardian.user for link in person.guardianships.select_related("guardian__user")
            if link.guardian.user_id]


def _coming_of_age_mail(person: Person, *, stage: str, birthday: date) -> None:
    context = {"stage": stage, "participant": person.full_name, "birthday": birthday.isoformat(),
               "access_ends_on": (birthday + timedelta(days=GUARDIAN_GRACE_DAYS)).isoformat(),
               "has_login": person.user_id is not None, "portal_path": reverse("workpro:account")}
    institution = _institution_of(person)
    if person.user_id and person.user.email:
        queue_mail(to=person.user.email, template="coming_of_age", language=person.language, person=person,
                   institution=institution, context={**context, "to_participant": True,
                                                     "first_name": person.first_name})
    for user in _guardian_users(person):
        guardian = getattr(user, "workpro_person", None)
        if user.email:
            queue_mail(to=user.email, template="coming_of_age", person=guardian, institution=institution,
                       language=guardian.language if guardian else None,
                       context={**context, "to_participant": False,
                                "first_name": guardian.first_name if guardian else user.first_name})


def _hand_contracts_to(person: Person, *, by=None) -> int:
    """The participant's own login becomes the account holder of contracts a guardian held."""
    guardian_users = _guardian_users(person)
    if person.user_id is None or not guardian_users:
        return 0
    moved = 0
    for enrollment in Enrollment.objects.select_for_update().filter(participant=person,
                                                                    account_holder__in=guardian_users):
        enrollment.account_holder_id = person.user_id
        enrollment.save(update_fields=["account_holder", "updated_at"])
        log(enrollment, action="came_of_age", by=by, note=person.full_name)
        moved += 1
    return moved


def coming_of_age(*, today: date | None = None) -> dict:
    """The daily handover: notices 14 days ahead, the handover on the birthday, the end of access.

    Safe to run any number of times a day; a missed day is caught up.
    """
    today = today or timezone.localdate()
    counts = {"notices": 0, "handovers": 0, "access_ended": 0}
    # Anyone with a guardian who turns 18 within the next 14 days or already has.
    latest_birth = years_before(today + timedelta(days=HANDOVER_NOTICE_DAYS), 18)
    candidates = (Person.objects.filter(guardianships__isnull=False, came_of_age_at__isnull=True,
                                        date_of_birth__lte=latest_birth).distinct().select_related("user"))
    for person in candidates:
        birthday = person.eighteenth_birthday()
        if birthday is None or (birthday - today).days > HANDOVER_NOTICE_DAYS:
            continue
        with transaction.atomic():
            locked = Person.objects.select_for_update(of=("self",)).select_related("user").get(pk=person.pk)
            if locked.came_of_age_at is not None:
                continue
            if birthday > today:
                if locked.coming_of_age_notice_at is None:
                    locked.coming_of_age_notice_at = timezone.now()
                    locked.save(update_fields=["coming_of_age_notice_at", "updated_at"])
                    _coming_of_age_mail(locked, stage="notice", birthday=birthday)
                    for enrollment in Enrollment.objects.filter(participant=locked, status__in=STANDING_STATUSES):
                        log(enrollment, action="coming_of_age_notice", note=birthday.isoformat())
                    counts["notices"] += 1
                continue
            _hand_over(locked, birthday=birthday)
            counts["handovers"] += 1
    counts["access_ended"] = _end_guardian_access(today)
    return counts


def years_before(day: date, years: int) -> date:
    """The same day `years` earlier; 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _hand_over(person: Person, *, birthday: date) -> None:
    access_ends_on = birthday + timedelta(days=GUARDIAN_GRACE_DAYS)
    Guardian.objects.filter(participant=person).update(access_ends_on=access_ends_on)
    person.came_of_age_at = timezone.now()
    person.save(update_fields=["came_of_age_at", "updated_at"])
    _coming_of_age_mail(person, stage="today", birthday=birthday)
    if person.user_id is not None:
        _hand_contracts_to(person)
        return
    standing = Enrollment.objects.filter(participant=person, status__in=STANDING_STATUSES).select_related(
        "institution")
    told = set()
    for enrollment in standing:
        log(enrollment, action="came_of_age_no_login", note=person.full_name)
        institution = enrollment.institution
        if institution.pk in told or not institution.email:
            continue
        told.add(institution.pk)
        # About the person, to the institution: anonymising the person scrubs it (privacy._outbox_of).
        queue_mail(to=institution.email, template="coming_of_age_no_login", institution=institution, person=person,
                   context={"participant": person.full_name, "customer_number": person.customer_number or "",
                            "birthday": birthday.isoformat(), "access_ends_on": access_ends_on.isoformat()})


def _end_guardian_access(today: date) -> int:
    """After the 30 days: contracts still held by a former guardian pass to the participant (or to nobody)."""

    ended = 0
    held = Enrollment.objects.filter(
        participant__guardianships__access_ends_on__lt=today,
        account_holder=F("participant__guardianships__guardian__user"),
    ).values_list("pk", flat=True)
    for pk in list(held):
        with transaction.atomic():
            enrollment = (Enrollment.objects.select_for_update(of=("self",))
                          .select_related("participant", "account_holder").get(pk=pk))
            former = enrollment.account_holder
            enrollment.account_holder_id = enrollment.participant.user_id
            enrollment.save(update_fields=["account_holder", "updated_at"])
            log(enrollment, action="guardian_access_ended", note=former.get_full_name() or former.email)
            ended += 1
    return ended


# --- Notfallkontakt and Abholberechtigte ----------------------------------------------------

def care_required(enrollment: Enrollment, today: date | None = None) -> bool:
    """A minor's contract needs Notfallkontakt and Abholberechtigte once it is offered."""
    participant = enrollment.participant
    if participant is None or participant.date_of_birth is None or enrollment.status not in CARE_STATUSES:
        return False
    today = today or timezone.localdate()
    if enrollment.contract_end and enrollment.contract_end < today:
        return False
    on = max(today, enrollment.contract_start) if enrollment.contract_start else today
    return participant.age_on(on) < 18 or participant.age_on(today) < 18


def care_missing(enrollment: Enrollment, today: date | None = None) -> list[str]:
    """What is still missing, in words for the portal and the admin; empty when complete."""
    today = today or timezone.localdate()
    missing = []
    # a list's rows (selectors.enrollments.portal_contracts) carry `has_emergency_contact` and `pickup_rows`
    has_emergency = (enrollment.has_emergency_contact if hasattr(enrollment, "has_emergency_contact")
                     else bool(list(enrollment.emergency_contacts.all())))
    pickups = getattr(enrollment, "pickup_rows", None)
    if pickups is None:
        pickups = list(enrollment.pickup_persons.all())
    if not has_emergency:
        missing.append(_("Es ist noch kein Notfallkontakt eingetragen."))
    if not pickups:
        missing.append(_("Es ist noch keine abholberechtigte Person eingetragen."))
    for pickup in pickups:
        if not pickup.photo:
            missing.append(_("Für %(name)s fehlt das Passfoto.") % {"name": pickup.name})
        elif not pickup.photo_is_current(today):
            missing.append(_("Das Passfoto von %(name)s ist älter als %(months)s Monate. Bitte ein aktuelles "
                             "Foto hochladen.") % {"name": pickup.name, "months": photo_validity_months()})
    return missing


def outstanding_care(enrollment: Enrollment, today: date | None = None) -> list[str]:
    """What is still missing where Notfallkontakt and Abholberechtigte are required; else nothing."""
    return care_missing(enrollment, today) if care_required(enrollment, today) else []


def process_passport_photo(upload) -> bytes:
    """A JPEG or PNG checked by content, re-encoded as JPEG: EXIF (location, camera) is gone."""
    checked = check_upload(upload)
    if checked.kind not in ("jpeg", "png"):
        raise UploadError(_("Bitte ein Foto als JPEG- oder PNG-Datei hochladen."))
    limit = conf.get("PICKUP_PHOTO_MAX_BYTES")
    if len(checked.content) > limit:
        raise UploadError(_("Das Foto ist größer als %(mb)s MB.") % {"mb": limit // (1024 * 1024)})
    try:
        return clean_image(checked.content, output="JPEG", quality=85, min_side=PHOTO_MIN_SIDE,
                           max_side=PHOTO_MAX_SIDE, name=checked.name)
    except ImageRefused as exc:
        raise UploadError(str(exc)) from exc


def _check_holder(enrollment: Enrollment, by) -> None:
    if portal_role(by, enrollment) != PortalRole.HOLDER:
        raise MinorsError(_("Diese Aktion ist Ihnen nicht erlaubt."))
    if enrollment.status not in CARE_STATUSES:
        raise MinorsError(_("Notfallkontakt und Abholberechtigte werden eingetragen, sobald ein Angebot vorliegt."))


@transaction.atomic
def care_save_emergency(*, enrollment: Enrollment, by, name: str, relation: str, phone: str,
                        contact: EmergencyContact | None = None) -> EmergencyContact:
    _check_holder(enrollment, by)
    contact = contact or EmergencyContact(enrollment=enrollment)
    contact.name, contact.relation, contact.phone = name, relation, phone
    contact.save()
    log(enrollment, action="emergency_contact_saved", by=by, note=name)
    return contact


@transaction.atomic
def care_save_pickup(*, enrollment: Enrollment, by, name: str, relation: str, phone: str,
                     photo_content: bytes | None = None, pickup: PickupPerson | None = None) -> PickupPerson:
    """Save an Abholberechtigte; `photo_content` comes from process_passport_photo and replaces the old photo."""

    _check_holder(enrollment, by)
    content = photo_content
    pickup = pickup or PickupPerson(enrollment=enrollment)
    if content is None and not pickup.photo:
        raise MinorsError(_("Bitte ein aktuelles Passfoto hochladen."))
    pickup.name, pickup.relation, pickup.phone = name, relation, phone
    if content is not None:
        old = pickup.photo.name if pickup.photo else ""
        pickup.photo.save(f"{timezone.now():%Y%m%d%H%M%S}-{enrollment.pk}.jpg", ContentFile(content), save=False)
        pickup.photo_uploaded_at = timezone.now()
        if old:
            transaction.on_commit(lambda: pickup.photo.storage.delete(old))
    pickup.save()
    log(enrollment, action="pickup_person_saved", by=by, note=name)
    return pickup


@transaction.atomic
def care_remove(*, enrollment: Enrollment, by, contact) -> None:
    _check_holder(enrollment, by)
    name = contact.name
    photo = getattr(contact, "photo", None)
    photo_name = photo.name if photo else ""
    contact.delete()
    if photo_name:
        storage = photo.storage
        transaction.on_commit(lambda: storage.delete(photo_name))
    log(enrollment, action="care_contact_removed", by=by, note=name)


def send_care_reminders(*, today: date | None = None) -> int:
    """Reminders 14 and 3 days before the Notfalldaten are due (the contract start, or the date a Leitung
    extended it to) while data is missing; once each per deadline."""

    today = today or timezone.localdate()
    horizon = today + timedelta(days=max(CARE_REMINDER_DAYS))
    sent = 0
    due = (Q(care_deadline__range=(today, horizon))
           | Q(care_deadline__isnull=True, contract_start__range=(today, horizon)))
    candidates = (Enrollment.objects.filter(due, status__in=CARE_STATUSES)
                  .select_related("participant", "institution", "offer", "account_holder__workpro_person")
                  .prefetch_related("emergency_contacts", "pickup_persons"))
    for enrollment in candidates:
        days_left = (enrollment.care_deadline_effective - today).days
        threshold = min(d for d in CARE_REMINDER_DAYS if days_left <= d)
        action = f"care_reminder_{threshold}"
        if not care_required(enrollment, today):
            continue
        missing = care_missing(enrollment, today)
        if not missing:
            continue
        with transaction.atomic():
            locked = Enrollment.objects.select_for_update().get(pk=enrollment.pk)
            extended = locked.log_entries.filter(action="workpro.enrollment.deadline_extended_care").last()
            earlier = locked.log_entries.filter(action=f"workpro.enrollment.{action}")
            if (earlier.filter(at__gt=extended.at) if extended else earlier).exists():
                continue
            log(enrollment, action=action, note=" ".join(missing))
            notify(enrollment, "care_reminder", missing=" ".join(missing))
        sent += 1
    return sent


# --- data protection: export and erasure -------------------------------------------------------

def _care_of(person: Person, institutions=None):
    """Notfallkontakte and Abholberechtigte of the contracts the person takes part in or holds
    (at `institutions` when given)."""
    enrollments = privacy.enrollments_of(person)
    if institutions is not None:
        enrollments = enrollments.filter(institution_id__in=institutions)
    enrollments = enrollments.values("pk")
    return (EmergencyContact.objects.filter(enrollment__in=enrollments).select_related("enrollment"),
            PickupPerson.objects.filter(enrollment__in=enrollments).select_related("enrollment"))


def _photo_path(pickup: PickupPerson) -> str:
    return f"fotos/{pickup.pk}-{os.path.basename(pickup.photo.name)}"


def _care_entry(contact) -> dict:
    return {"id": contact.pk, "enrollment": contact.enrollment_id,
            "contract_number": contact.enrollment.contract_number, "name": contact.name,
            "relation": contact.relation, "phone": contact.phone, "created_at": contact.created_at,
            "updated_at": contact.updated_at}


def care_export(person: Person, institutions=None) -> dict:
    """The export section: both kinds of contact; the passport photos lie in the ZIP under fotos/."""
    emergency, pickups = _care_of(person, institutions)
    return {
        "emergency_contacts": [_care_entry(c) for c in emergency.order_by("enrollment_id", "pk")],
        "pickup_persons": [
            {**_care_entry(p), "photo": _photo_path(p) if p.photo else None,
             "photo_uploaded_at": p.photo_uploaded_at, "photo_valid_until": p.photo_valid_until()}
            for p in pickups.order_by("enrollment_id", "pk")],
    }


def care_export_files(person: Person, institutions=None) -> list[tuple[str, object]]:
    _emergency, pickups = _care_of(person, institutions)
    return [(_photo_path(p), p.photo) for p in pickups.exclude(photo="").order_by("pk")]


def care_erase(person: Person) -> int:
    """Contacts of an anonymised person's contracts are deleted, photo files after commit.

    They are third parties' data, needed only while the contract runs; anonymisation
    comes long after every contract of the person has ended.
    """
    emergency, pickups = _care_of(person)
    files = [(p.photo.storage, p.photo.name) for p in pickups if p.photo]
    deleted = emergency.delete()[0] + pickups.delete()[0]
    for storage, name in files:
        # After the rows are gone for good: a rolled-back anonymisation must not lose a photo.
        transaction.on_commit(lambda storage=storage, name=name: storage.delete(name))
    return deleted


privacy.register_exporter("care_contacts", care_export, scoped=True)
privacy.register_export_files("care_contacts", care_export_files, scoped=True)
privacy.register_eraser("care_contacts", care_erase)
