"""Enrollments a user may see: staff lists, the portal, deadlines."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.contrib.auth import get_user_model
from django.db import models
from django.db.models import (
    Exists,
    F,
    OuterRef,
    Prefetch,
    Q,
    Subquery,
    prefetch_related_objects,
)
from django.utils import timezone
from wagtail.fields import StreamField

from ..access import active_guardian_q
from ..lib import people
from ..lib.compiled_sql import CompiledQuery
from ..lib.paging import Rows
from ..lib.questions import QUESTION_SECTIONS
from ..models import (
    OPEN_STATUSES,
    AllocationResult,
    EmergencyContact,
    Enrollment,
    EnrollmentSection,
    EnrollmentStatus,
    Guardian,
    OfferPage,
    Person,
    PickupPerson,
)
from .institutions import staff_institutions


def staff_enrollments(user):
    """Enrollments in the user's institutions, with what list and export show."""
    return Enrollment.objects.filter(institution__in=staff_institutions(user)).select_related(
        "participant", "offer", "institution", "account_holder")


def staff_institution_ids(user) -> list[int] | None:
    """The ids of staff_institutions(user) (one query), None for a superuser: every institution."""
    if user is not None and user.is_authenticated and user.is_superuser:
        return None
    return list(staff_institutions(user).values_list("pk", flat=True))


def staff_enrollments_in(institution_ids: list[int] | None):
    """staff_enrollments for the ids staff_institution_ids returned: the ids as values, not a subquery, so that
    the database can read one institution's list in the order of the (institution, created_at) index; None
    (a superuser) without any institution condition, as every enrollment has its institution."""
    enrollments = Enrollment.objects.all() if institution_ids is None else Enrollment.objects.filter(
        institution_id__in=institution_ids)
    return enrollments.select_related("participant", "offer", "institution", "account_holder")


def with_question_sections(queryset):
    """`queryset` with the sections that hold the answers to the offer's own questions, for all rows in one
    query: `enrollment.sections.all()` then holds only those (an export's column reads them per row)."""
    return queryset.prefetch_related(
        Prefetch("sections", EnrollmentSection.objects.filter(section__in=list(QUESTION_SECTIONS))))


def overdue_q(today):
    """Enrollments with a passed deadline: an unsigned offer, or requested proof of income not received."""
    return (Q(status=EnrollmentStatus.ANGEBOT, signed_copy_deadline__lt=today)
            | Q(proof_deadline__lt=today, proof_received_at__isnull=True, status__in=OPEN_STATUSES))


def today_bounds():
    """Start and end of the current local day, for "today's interviews"."""
    start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + timedelta(days=1)


def portal_enrollments(user, today=None):
    """Every enrollment `user` may see in the portal, whatever the role."""
    if user is None or not user.is_authenticated:
        return Enrollment.objects.none()
    today = today or timezone.localdate()
    visible = Q(account_holder=user) | Q(participant__user=user) | active_guardian_q(user, today)
    ids = Enrollment.objects.filter(visible).values("pk")
    return Enrollment.objects.filter(pk__in=ids)


def _offer_text_columns() -> list[str]:
    """The offer page's long text columns (StreamField body, teaser, search description ...): a row of a
    list shows the title, never these."""
    return [f"offer__{f.name}" for f in OfferPage._meta.concrete_fields
            if isinstance(f, (models.TextField, models.JSONField, StreamField))]


@dataclass
class WardRow:
    """A row of the wards table of Mein Konto ("Meine Kinder und Teilnehmer"): a guardianship whose access
    lasts today, with what the table shows of the ward and the ward's login, read as plain columns. It
    answers `full_name` and `age_on` as the ward's Person does (services.minors.own_login_refusal reads
    them); the view adds the row's links and `login_refusal` for the rows of one page."""

    participant_id: int
    is_primary: bool
    access_ends_on: date | None
    first_name: str
    last_name: str
    date_of_birth: date | None
    user_id: int | None
    user_email: str | None
    login_refusal: str = ""
    view_url: str = ""
    login_url: str = ""
    wishlist_url: str = ""

    @property
    def full_name(self) -> str:
        return people.full_name(self.first_name, self.last_name)

    def age_on(self, day) -> int | None:
        return people.age_on(self.date_of_birth, day)


@dataclass(frozen=True)
class PortalScope:
    """Whom `user` sees in the portal, read once for a page that makes several lookups (Mein Konto).

    `person` is the user's own Person (None for a login without one), `ward_rows` the guardianships
    whose access lasts today (WardRow, in the wards table's order). The lookups then select by ids, without
    the joins to the guardianships that portal_enrollments makes in each query, and select the same rows
    (tests/portal/test_account_queries.py).
    """

    user: object
    person: Person | None
    ward_rows: tuple[WardRow, ...]

    @property
    def ward_ids(self) -> list[int]:
        return [row.participant_id for row in self.ward_rows]

    @classmethod
    def of_ids(cls, user_id: int, ward_ids=(), person_id: int | None = None) -> PortalScope:
        """A scope of ids alone (the user and the Person as unsaved instances with their pk): what a query
        compiled once per shape (lib.compiled_sql) is built with."""
        return cls(get_user_model()(pk=user_id), None if person_id is None else Person(pk=person_id),
                   tuple(WardRow(ward_id, False, None, "", "", None, None, None) for ward_id in ward_ids))

    def enrollment_q(self, prefix: str = "") -> Q:
        """The enrollments (through `prefix`, e.g. "conversation__enrollment__") portal_enrollments returns."""
        ids = self.ward_ids + ([self.person.pk] if self.person is not None else [])
        visible = Q(**{f"{prefix}account_holder": self.user})
        return visible | Q(**{f"{prefix}participant_id__in": ids}) if ids else visible


def portal_scope(user, today=None) -> PortalScope:
    """The PortalScope of `user`: two queries (the own Person, the guardianships with the columns of the wards
    table, as tuples: a scope with many wards builds no model instance for them)."""
    if user is None or not user.is_authenticated:
        return PortalScope(user, None, ())
    person = getattr(user, "workpro_person", None)
    if person is None:
        return PortalScope(user, None, ())
    today = today or timezone.localdate()
    rows = (Guardian.objects.filter(Q(access_ends_on__isnull=True) | Q(access_ends_on__gte=today), guardian=person)
            .order_by("participant__first_name", "participant__last_name", "participant_id")
            .values_list(*_WARD_COLUMNS))  # the filter is Guardian.has_access_on(today)
    return PortalScope(user, person, tuple(WardRow(*row) for row in rows))


# The columns of a WardRow, in its order.
_WARD_COLUMNS = ("participant_id", "is_primary", "access_ends_on", "participant__first_name",
                 "participant__last_name", "participant__date_of_birth", "participant__user_id",
                 "participant__user__email")


# What a row of Mein Konto reads of its offer and participant; the other columns stay in the database (an
# offer page row alone has some 50, a StreamField body among them). The offer's questions and the
# participant's address are what the next step of an application compares with the printed one.
_OFFER_ROW_COLUMNS = ("title", "content_type", "locale", "questions")
_PARTICIPANT_ROW_COLUMNS = {"id", "first_name", "last_name", "customer_number", "date_of_birth", "user", "street",
                            "postcode", "city", "email", "mobile"}


def _participant_row_columns() -> list[str]:
    return [f"participant__{name}" for name in sorted(_PARTICIPANT_ROW_COLUMNS)]


# The statuses whose next step follows the application's data (Enrollment.next_step): only their rows
# need the sections.
DATA_STEP_STATUSES = (EnrollmentStatus.INTERESSENT, EnrollmentStatus.KANDIDAT)


def latest_allocation_outcome() -> Subquery:
    """The outcome of an enrollment's newest allocation result (as selectors.allocation.latest_results)."""
    return Subquery(AllocationResult.objects.filter(enrollment=OuterRef("pk"))
                    .order_by("-round__confirmed_at", "-pk").values("outcome")[:1])


def portal_contracts(scope: PortalScope):
    """Alle Verträge of Mein Konto: what the scope's user sees as account holder or guardian (not as the
    participant), newest first, each row with the columns it shows: the offer's title (`offer_title`), the
    institution's name (`institution_name`), whether a Notfallkontakt exists (`has_emergency_contact`) and
    the newest allocation outcome (`allocation_outcome`). What only some rows need beyond that is read by
    with_row_relations for the rows of a page. Mein Konto reads it page by page (portal_contract_rows)."""
    return _with_row_columns(portal_contracts_counted(scope)).order_by("-created_at", "-pk")


def _with_row_columns(queryset):
    return (queryset.select_related("participant").only(*_CONTRACT_ROW_COLUMNS, *_participant_row_columns())
            .annotate(allocation_outcome=latest_allocation_outcome(), institution_name=F("institution__name"),
                      offer_title=F("offer__title"),
                      has_emergency_contact=Exists(EmergencyContact.objects.filter(enrollment=OuterRef("pk")))))


def portal_contracts_counted(scope: PortalScope):
    """The rows of portal_contracts without their columns' joins and annotations."""
    ward_ids = scope.ward_ids
    visible = Q(account_holder=scope.user)
    if ward_ids:  # as guardian: a ward is never the guardian's own Person (workpro_guardian_not_self)
        visible |= Q(participant_id__in=ward_ids)
    return Enrollment.objects.filter(visible)


def portal_contract_rows(scope: PortalScope) -> Rows:
    """portal_contracts as lib.paging.Rows, read in two steps: the keys (id, created_at) of all the user's
    contracts, by the account holder's and by the wards' index, one query each, sorted here; then a page's
    rows by id. One query with both conditions, ordered and limited, let SQLite walk the index on created_at
    through every enrollment of the installation (without statistics it plans so): 20 ms for a page of 10
    among 50,000 enrollments, where these take well under one. The count is the number of keys. Each query
    is compiled once per shape (lib.compiled_sql)."""
    keys = dict(_HELD.rows(user_id=scope.user.pk))
    if scope.ward_ids:
        keys.update(_OF_WARDS.rows(ward_ids=scope.ward_ids))
    ordered = [pk for pk, _created in sorted(keys.items(), key=lambda key: (key[1], key[0]), reverse=True)]
    return Rows(lambda start, stop: _contracts_by_id(ordered[start:stop]), lambda: len(ordered))


def _contracts_by_id(ids: list[int]) -> list[Enrollment]:
    by_id = {row.pk: row for row in _CONTRACTS_BY_ID.objects(ids=ids)} if ids else {}
    return [by_id[pk] for pk in ids if pk in by_id]


_HELD = CompiledQuery(lambda user_id: Enrollment.objects.filter(account_holder_id=user_id).order_by()
                      .values_list("pk", "created_at"))
# as guardian: a ward is never the guardian's own Person (workpro_guardian_not_self)
_OF_WARDS = CompiledQuery(lambda ward_ids: Enrollment.objects.filter(participant_id__in=ward_ids).order_by()
                          .values_list("pk", "created_at"))
_CONTRACTS_BY_ID = CompiledQuery(lambda ids: _with_row_columns(Enrollment.objects.filter(pk__in=ids)).order_by())


# What a row of Mein Konto reads of its contract: the status and the dates its next step, deadlines and
# Notfalldaten follow (Enrollment.next_step, current_deadline, care_deadline_effective, proof_due;
# services.minors.care_required), and for an application's rows what its fingerprint compares.
_CONTRACT_ROW_COLUMNS = ("offer", "institution", "account_holder", "participant", "contract_number", "status",
                         "questions", "printed_fingerprint", "proof_requested_at", "proof_deadline",
                         "proof_received_at", "proof_uploaded_at", "contract_start", "contract_end",
                         "signed_copy_deadline", "care_deadline", "place_offered_at", "place_reserved_at",
                         "place_accept_deadline", "created_at")


def with_row_relations(rows, care_rows=()) -> None:
    """What some rows of portal_contracts need beyond their columns, read for those rows only: a number of
    queries that does not grow with the rows (at most four, none for a page that needs nothing).

    The rows whose next step follows the application's data (DATA_STEP_STATUSES, with a participant) get
    their offer (one instance per offer, with its sections) and their sections (`section_rows`); `care_rows`
    (where Notfallkontakt and Abholberechtigte are required, services.minors.care_required) get their
    Abholberechtigte (`pickup_rows`). Other rows read neither: their next step is the status's."""
    data_rows = [row for row in rows if row.status in DATA_STEP_STATUSES and row.participant_id is not None]
    if data_rows:
        prefetch_related_objects(data_rows, Prefetch("offer", OfferPage.objects.only(*_OFFER_ROW_COLUMNS)),
                                 "offer__application_sections",
                                 # as plain lists (to_attr): no related manager's queryset per row
                                 Prefetch("sections", EnrollmentSection.objects.all(), to_attr="section_rows"))
    care_rows = list(care_rows)
    if care_rows:
        prefetch_related_objects(care_rows, Prefetch("pickup_persons", PickupPerson.objects.only(
            "enrollment_id", "name", "photo", "photo_uploaded_at"), to_attr="pickup_rows"))


@dataclass(frozen=True)
class ParticipationRow:
    """A row of Meine Teilnahme: the columns it shows, read without the enrollment, offer and institution."""

    pk: int
    status: str
    offer_title: str
    institution_name: str
    contract_start: date | None

    @property
    def status_label(self) -> str:
        return status_label(self.status)


def status_label(status: str) -> str:
    """The label of an enrollment status, as `get_status_display` shows it (the value itself if unknown)."""
    try:
        return str(EnrollmentStatus(status).label)
    except ValueError:
        return status


def portal_participations(scope: PortalScope) -> list[ParticipationRow]:
    """Meine Teilnahme: the enrollments the scope's user takes part in without holding the account."""
    if scope.person is None:
        return []
    return [ParticipationRow(*row) for row in _PARTICIPATIONS.rows(person_id=scope.person.pk, user_id=scope.user.pk)]


def _participations_query(person_id: int, user_id: int):
    return (Enrollment.objects.filter(participant_id=person_id).exclude(account_holder_id=user_id)
            .order_by("-created_at", "-pk")
            .values_list("pk", "status", "offer__title", "institution__name", "contract_start"))


_PARTICIPATIONS = CompiledQuery(_participations_query)
