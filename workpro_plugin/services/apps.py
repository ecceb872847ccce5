"""Anwendungen: staff assign apps to participants or offers; the participant (or PSB1) accepts them.

Reads decide which apps a portal user sees and for whom; writes assign, revoke and
accept. Who may accept for a person is decided only by `selectors.speaks_for`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from ..access import speaks_for
from ..models import (
    STANDING_STATUSES,
    App,
    AppAcceptance,
    AppAssignment,
    Enrollment,
    Institution,
    OfferPage,
    Person,
)
from ..selectors.institutions import staff_institutions
from ..selectors.offers import institution_offers
from . import privacy
from .errors import FieldError
from .notify import queue_mail

S = Enrollment.Status
# An offer assignment reaches the participants of these contracts.
APP_CONTRACT_STATUSES = (S.ANGENOMMEN, S.RATIFIZIERT)
MANAGE_PERMISSION = "process_enrollment"


class AppError(FieldError):
    """A refused app action, with a message for the user."""


# --- staff: which apps and institutions ----------------------------------------------------

def manageable_institutions(user):
    """Institutions whose apps `user` manages: staff who process enrollments there."""
    if user is None or not user.is_authenticated:
        return Institution.objects.none()
    if user.is_superuser:
        return Institution.objects.all()
    if not user.has_perm(f"workpro_plugin.{MANAGE_PERMISSION}"):
        return Institution.objects.none()
    return staff_institutions(user)


def staff_apps(user):
    """Apps of the institutions the user is staff of (seen); managing them is checked per app."""
    return App.objects.filter(institution__in=staff_institutions(user)).select_related("institution")


def may_manage(user, app: App) -> bool:
    return app.institution.staff_can(user, MANAGE_PERMISSION)


def assignable_offers(app: App):
    """The institution's own offers (below its site's homepage)."""
    return institution_offers([app.institution])


def assignable_participants(app: App):
    """Participants with a standing enrollment at the app's institution."""
    return (Person.objects.filter(enrollments__institution=app.institution,
                                  enrollments__status__in=STANDING_STATUSES)
            .distinct().order_by("last_name", "first_name"))


# --- staff: writes -------------------------------------------------------------------------

def app_assign(*, app: App, by, participant: Person | None = None, offer: OfferPage | None = None) -> AppAssignment:
    """Zuweisen: to one participant of the institution, or to every participant of one of its offers."""
    if (participant is None) == (offer is None):
        raise AppError(_("Bitte wählen Sie entweder ein Angebot oder einen Teilnehmer."))
    with transaction.atomic():
        app = App.objects.select_for_update(of=("self",)).select_related("institution__site").get(pk=app.pk)
        if not may_manage(by, app):
            raise AppError(_("Diese Aktion ist Ihnen nicht erlaubt."))
        if offer is not None and not assignable_offers(app).filter(pk=offer.pk).exists():
            raise AppError(_("Das Angebot gehört nicht zu dieser Einrichtung."), "offer")
        if participant is not None and not assignable_participants(app).filter(pk=participant.pk).exists():
            raise AppError(_("Diese Person ist kein Teilnehmer dieser Einrichtung."), "participant")
        current = AppAssignment.objects.filter(app=app, revoked_at__isnull=True)
        current = current.filter(offer=offer) if offer is not None else current.filter(participant=participant)
        if current.exists():
            raise AppError(_("Die Anwendung ist bereits zugewiesen."))
        try:
            with transaction.atomic():
                assignment = AppAssignment.objects.create(app=app, participant=participant, offer=offer,
                                                          assigned_by=by)
        except IntegrityError as exc:  # assigned meanwhile by someone else
            raise AppError(_("Die Anwendung ist bereits zugewiesen.")) from exc
        _mail_assigned(assignment)
        return assignment


def _recipients(assignment: AppAssignment) -> dict[tuple[str, int], tuple[Person | None, Person]]:
    """{(address, participant id): (recipient person, participant)}: whoever accepts the app for each participant reached by
    the assignment: the account holder of the participant's contract, and the participant's own login."""
    contracts = Enrollment.objects.filter(institution=assignment.app.institution)
    if assignment.offer_id:
        contracts = contracts.filter(offer_id=assignment.offer_id, status__in=APP_CONTRACT_STATUSES)
    else:
        contracts = contracts.filter(participant_id=assignment.participant_id, status__in=STANDING_STATUSES)
    result: dict[tuple[str, int], tuple[Person | None, Person]] = {}
    for contract in contracts.select_related("participant__user", "account_holder__workpro_person"):
        participant, holder = contract.participant, contract.account_holder
        if participant is None:
            continue
        if participant.user_id and participant.user.email:
            result.setdefault((participant.user.email.lower(), participant.pk), (participant, participant))
        if holder is not None and holder.email:
            result.setdefault((holder.email.lower(), participant.pk),
                              (getattr(holder, "workpro_person", None), participant))
    return result


def _mail_assigned(assignment: AppAssignment) -> None:
    """Tell whoever accepts the app that it waits in Mein Konto, in their own language."""
    app = assignment.app
    if not app.is_active:
        return  # shown to nobody until it is active again
    for (address, _participant_id), (recipient, participant) in _recipients(assignment).items():
        queue_mail(to=address, template="app_assigned", institution=app.institution, person=recipient,
                   language=recipient.language if recipient else None,
                   context={"app": app.name, "description": app.description, "participant": participant.full_name,
                            "own": recipient is not None and recipient.pk == participant.pk,
                            "apps_path": reverse("workpro:apps")})


def app_revoke(*, assignment: AppAssignment | int, by, reason: str = "") -> AppAssignment:
    """Entziehen: the assignment stays on record with who revoked it, when and why."""
    with transaction.atomic():
        pk = assignment.pk if isinstance(assignment, AppAssignment) else assignment
        locked = (AppAssignment.objects.select_for_update(of=("self",))
                  .select_related("app__institution").get(pk=pk))
        if not may_manage(by, locked.app):
            raise AppError(_("Diese Aktion ist Ihnen nicht erlaubt."))
        if locked.revoked_at is not None:
            raise AppError(_("Die Zuweisung wurde bereits entzogen."))
        locked.revoked_at, locked.revoked_by, locked.revoke_reason = timezone.now(), by, reason.strip()
        locked.save(update_fields=["revoked_at", "revoked_by", "revoke_reason"])
    return locked


# --- portal: which apps for whom -------------------------------------------------------------

@dataclass
class AppTile:
    app: App
    acceptance: AppAcceptance | None = None
    terms_changed: bool = False

    @property
    def is_accepted(self) -> bool:
        return self.acceptance is not None


@dataclass
class PersonApps:
    person: Person
    tiles: list[AppTile] = field(default_factory=list)


def people_spoken_for(user) -> list[Person]:
    """The people `user` acts for on the apps page (decided by `speaks_for`): themself, and wards
    without own login they are PSB1 for."""
    if user is None or not user.is_authenticated:
        return []
    candidates = Person.objects.filter(
        Q(user=user) | Q(user__isnull=True, guardianships__guardian__user=user, guardianships__is_primary=True)
    ).distinct().order_by("last_name", "first_name")
    today = timezone.localdate()
    people = [p for p in candidates if speaks_for(user, p, today)]
    return sorted(people, key=lambda p: p.user_id != user.pk)  # the user's own apps first


def _assigned_app_ids(people: list[Person]) -> dict[int, set[int]]:
    """{person id: ids of the active apps assigned to them, directly or through an offer}."""
    ids = [p.pk for p in people]
    contracts = list(Enrollment.objects.filter(participant_id__in=ids, status__in=APP_CONTRACT_STATUSES)
                     .values_list("participant_id", "offer_id"))
    offers_of: dict[int, set[int]] = {}
    for person_id, offer_id in contracts:
        offers_of.setdefault(offer_id, set()).add(person_id)
    assignments = AppAssignment.objects.filter(
        Q(participant_id__in=ids) | Q(offer_id__in=list(offers_of)), revoked_at__isnull=True, app__is_active=True,
    ).values_list("app_id", "participant_id", "offer_id")
    result: dict[int, set[int]] = {pk: set() for pk in ids}
    for app_id, participant_id, offer_id in assignments:
        for person_id in ({participant_id} if participant_id else offers_of.get(offer_id, set())):
            result[person_id].add(app_id)
    return result


def app_tiles(user) -> list[PersonApps]:
    """The "Anwendungen" page: per person the user speaks for, the assigned apps and their acceptance.

    A constant number of queries, however many people and apps.
    """
    people = people_spoken_for(user)
    assigned = _assigned_app_ids(people)
    all_ids = set().union(*assigned.values()) if assigned else set()
    apps = {app.pk: app for app in App.objects.filter(pk__in=all_ids).select_related("institution")}
    acceptances: dict[tuple[int, int], list[AppAcceptance]] = {}
    for acceptance in AppAcceptance.objects.filter(app_id__in=all_ids, person__in=people).order_by("-accepted_at"):
        acceptances.setdefault((acceptance.app_id, acceptance.person_id), []).append(acceptance)
    result = []
    for person in people:
        tiles = []
        for app in sorted((apps[i] for i in assigned[person.pk]), key=lambda a: (a.name.lower(), a.pk)):
            given = acceptances.get((app.pk, person.pk), [])
            current = next((a for a in given if a.terms_sha256 == app.terms_sha256), None)
            tiles.append(AppTile(app=app, acceptance=current, terms_changed=bool(given) and current is None))
        result.append(PersonApps(person=person, tiles=tiles))
    return result


def assigned_app(user, *, app_id: int, person_id: int) -> tuple[App, Person] | None:
    """The app, if it is assigned to the person and the user speaks for the person; else None (a 404)."""
    person = Person.objects.filter(pk=person_id).first()
    if person is None or not speaks_for(user, person):
        return None
    if app_id not in _assigned_app_ids([person])[person.pk]:
        return None
    return App.objects.select_related("institution").get(pk=app_id), person


def current_acceptance(app: App, person: Person) -> AppAcceptance | None:
    return AppAcceptance.objects.filter(app=app, person=person, terms_sha256=app.terms_sha256).first()


def app_accept(*, app: App, person: Person, by, terms_sha256: str) -> AppAcceptance:
    """Annehmen: the person (or PSB1 for a minor without own login) accepts the terms they were shown."""
    if not speaks_for(by, person):
        raise AppError(_("Diese Aktion ist Ihnen nicht erlaubt."))
    with transaction.atomic():
        app = App.objects.select_for_update().get(pk=app.pk)
        if app.pk not in _assigned_app_ids([person])[person.pk]:
            raise AppError(_("Diese Anwendung ist nicht (mehr) zugewiesen."))
        if terms_sha256 != app.terms_sha256:
            raise AppError(_("Die Nutzungsbedingungen wurden inzwischen geändert. Bitte lesen Sie sie erneut "
                             "und nehmen Sie sie dann an."))
        acceptance, _created = AppAcceptance.objects.get_or_create(
            app=app, person=person, terms_sha256=app.terms_sha256,
            defaults={"accepted_by": by, "terms_text": app.terms},
        )
    return acceptance


# --- data protection: export and erasure -------------------------------------------------------

def _who(user) -> str | None:
    return privacy.actor_name(user) if user is not None else None


def apps_export(person: Person, institutions=None) -> dict:
    """The export section: apps assigned to the person (directly or through the offer of one of their
    contracts, revoked ones included) and the acceptances given for them or by them; only the apps of
    `institutions` when given."""
    offers = (Enrollment.objects.filter(participant=person, status__in=APP_CONTRACT_STATUSES)
              .values("offer_id"))
    assignments = (AppAssignment.objects.filter(Q(participant=person) | Q(offer_id__in=offers))
                   .select_related("app__institution", "offer", "assigned_by", "revoked_by")
                   .order_by("assigned_at", "pk"))
    given = Q(person=person)
    if person.user_id:
        given |= Q(accepted_by_id=person.user_id)
    if institutions is not None:
        assignments = assignments.filter(app__institution_id__in=institutions)
        given &= Q(app__institution_id__in=institutions)
    acceptances = (AppAcceptance.objects.filter(given).select_related("app", "person", "accepted_by")
                   .order_by("accepted_at", "pk"))
    return {
        "assignments": [{
            "app": a.app.name, "institution": a.app.institution.name, "launch_url": a.app.launch_url,
            "via_offer": a.offer.title if a.offer_id else None, "assigned_at": a.assigned_at,
            "assigned_by": _who(a.assigned_by), "revoked_at": a.revoked_at, "revoked_by": _who(a.revoked_by),
            "revoke_reason": a.revoke_reason,
        } for a in assignments],
        "acceptances": [{
            "app": a.app.name, "for": a.person.full_name, "accepted_by": _who(a.accepted_by),
            "accepted_at": a.accepted_at, "terms_sha256": a.terms_sha256, "terms_text": a.terms_text,
        } for a in acceptances],
    }


def apps_erase(person: Person) -> int:
    """Assignments and acceptances stay, tied to the anonymised person only: an acceptance is the
    proof which terms were accepted when, and anonymisation comes only after the contracts' retention
    (like a Consent row, which keeps its text and loses its address). What goes is the free text
    about the person: the reason a direct assignment was revoked."""
    return AppAssignment.objects.filter(participant=person).exclude(revoke_reason="").update(revoke_reason="")


privacy.register_exporter("apps", apps_export, scoped=True)
privacy.register_eraser("apps", apps_erase)
