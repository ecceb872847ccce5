from __future__ import annotations

import datetime
import hashlib
import json
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import Storage, storages
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import (
    RETURN_VALUE,
    ConcurrentTransitionMixin,
    FSMField,
    TransitionNotAllowed,
    transition,
)

from ..lib.choices import (
    OPEN_STATUSES,
    DecisionBasis,
    EnrollmentStatus,
)
from ..lib.choices import EnrollmentStatus as S
from ..lib.formats import format_datetime
from ..lib.messages import APPLICATION_STEPS, NEXT_STEPS, log_label


class MissingPrivateStorage(Storage):
    """Stands in for STORAGES["private"] when the host has not configured it: the models still load,
    the system check workpro.E023 says what to add, and no document is ever written anywhere else."""

    def _refuse(self, *args, **kwargs):
        raise ImproperlyConfigured('STORAGES["private"] is not configured (system check workpro.E023).')

    _open = _save = delete = exists = listdir = size = url = path = _refuse
    get_accessed_time = get_created_time = get_modified_time = _refuse


def private_storage():
    """Documents never live under MEDIA_URL; they are served by permission-checked views."""
    if "private" not in settings.STORAGES:
        return MissingPrivateStorage()
    return storages["private"]


# --- guards: pure predicates with a message for the user ----------------------------

def condition(message):
    def decorate(func):
        func.message = message
        return func
    return decorate


@condition(_("Es ist noch kein Teilnehmer zum Angebot angemeldet."))
def has_participant(enrollment: Enrollment) -> bool:
    return enrollment.participant_id is not None


@condition(_("Es fehlen noch Angaben in der Anmeldung."))
def phase_one_complete(enrollment: Enrollment) -> bool:
    return enrollment.sections_complete(phase=1)


@condition(_("Es fehlen noch Angaben, die als Kandidat nachzutragen sind."))
def phase_two_complete(enrollment: Enrollment) -> bool:
    return enrollment.sections_complete(phase=2)


@condition(_("Die Anmeldung wurde seit dem letzten Druck geändert oder noch nicht gedruckt. "
             "Bitte „Anmeldung drucken“ und prüfen."))
def print_is_current(enrollment: Enrollment) -> bool:
    return bool(enrollment.printed_fingerprint) and enrollment.printed_fingerprint == enrollment.data_fingerprint()


@condition(_("Termin, Uhrzeit und Ort des Gesprächs fehlen."))
def has_interview(enrollment: Enrollment) -> bool:
    return enrollment.interview_at is not None and bool(enrollment.interview_place)


@condition(_("Kosten, Vertragsbeginn, Vertragsende und Frist für das unterschriebene Angebot sind nötig; "
             "das Ende darf nicht vor dem Beginn und die Frist nicht in der Vergangenheit liegen."))
def offer_terms_complete(enrollment: Enrollment) -> bool:
    e = enrollment
    return (
        e.costs is not None and e.costs >= 0 and e.contract_start is not None and e.contract_end is not None
        and e.contract_end >= e.contract_start and e.signed_copy_deadline is not None
        and e.signed_copy_deadline >= timezone.localdate()
    )


@condition(_("Es ist noch kein unterschriebenes Angebot hinterlegt."))
def has_signed_copy(enrollment: Enrollment) -> bool:
    return enrollment.documents.filter(kind="signed_contract", superseded=False).exists()


@condition(_("Die Frist für das unterschriebene Angebot ist abgelaufen."))
def deadline_not_passed(enrollment: Enrollment) -> bool:
    return enrollment.signed_copy_deadline is None or enrollment.signed_copy_deadline >= timezone.localdate()


@condition(_("Die Frist für das unterschriebene Angebot ist noch nicht abgelaufen."))
def deadline_passed(enrollment: Enrollment) -> bool:
    return enrollment.signed_copy_deadline is not None and enrollment.signed_copy_deadline < timezone.localdate()


# --- permissions: (instance, user) -> bool ----------------------------------------------

def is_account_holder(enrollment: Enrollment, user) -> bool:
    return user is not None and user.is_authenticated and enrollment.account_holder_id == user.pk


def is_institution_staff(enrollment: Enrollment, user) -> bool:
    """Sachbearbeitung: staff of the enrollment's institution who may process enrollments."""
    return user is not None and enrollment.institution.staff_can(user, "process_enrollment")


def is_institution_lead(enrollment: Enrollment, user) -> bool:
    """Leitung: staff of the enrollment's institution who sign offers and ratify contracts."""
    return user is not None and enrollment.institution.staff_can(user, "sign_enrollment")


def is_account_holder_or_staff(enrollment: Enrollment, user) -> bool:
    return is_account_holder(enrollment, user) or is_institution_staff(enrollment, user)


def is_system_holder_or_staff(enrollment: Enrollment, user) -> bool:
    """Withdrawn by the family, by staff, or by the scheduler (a place offer not accepted in time)."""
    return user is None or is_account_holder_or_staff(enrollment, user)


def is_system_or_staff(enrollment: Enrollment, user) -> bool:
    """Deadlines are enforced by the scheduler (no user) or by staff."""
    return user is None or is_institution_staff(enrollment, user)


class Enrollment(ConcurrentTransitionMixin, models.Model):
    """One participant's enrollment ("Anmeldung", later "Vertrag") for one offer.

    Transitions only set fields; services in services/enrollments.py lock the row,
    check permission and guards, log and notify.
    """

    Status = EnrollmentStatus
    Basis = DecisionBasis

    offer = models.ForeignKey(
        "workpro_plugin.OfferPage", verbose_name=_("Angebot"), on_delete=models.PROTECT, related_name="enrollments"
    )
    institution = models.ForeignKey(
        "workpro_plugin.Institution", verbose_name=_("Einrichtung"), on_delete=models.PROTECT,
        related_name="enrollments",
    )
    account_holder = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("Kontoinhaber"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="workpro_enrollments",
    )
    participant = models.ForeignKey(
        "workpro_plugin.Person", verbose_name=_("Teilnehmer"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="enrollments",
    )
    contract_number = models.CharField(_("Vertragsnummer"), max_length=40, null=True, blank=True, unique=True)
    status = FSMField(_("Status"), default=S.INTERESSENT, choices=S.choices, protected=True, db_index=True)

    questions = models.JSONField(
        _("Eigene Fragen des Angebots (Stand dieser Anmeldung)"), null=True, blank=True, editable=False,
        help_text=_("Die Fragen, unter denen die Anmeldung ausgefüllt wurde; spätere Änderungen am Angebot "
                    "ändern sie nicht."))
    printed_fingerprint = models.CharField(_("Fingerabdruck der gedruckten Daten"), max_length=64, blank=True)
    printed_at = models.DateTimeField(_("gedruckt am"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("abgesendet am"), null=True, blank=True)

    interview_at = models.DateTimeField(_("Gesprächstermin"), null=True, blank=True)
    interview_place = models.CharField(_("Gesprächsort"), max_length=200, blank=True)
    interview_note = models.TextField(_("Hinweis zum Gespräch"), blank=True)

    decision_basis = models.CharField(_("Entscheidung"), max_length=20, choices=DecisionBasis.choices, blank=True)
    decision_reason = models.TextField(_("Begründung"), blank=True)
    decided_at = models.DateTimeField(_("entschieden am"), null=True, blank=True)

    proof_requested_at = models.DateTimeField(_("Einkommensnachweis angefordert am"), null=True, blank=True)
    proof_deadline = models.DateField(_("Frist für den Einkommensnachweis"), null=True, blank=True)
    proof_received_at = models.DateTimeField(_("Einkommensnachweis erhalten am"), null=True, blank=True)
    proof_overdue = models.BooleanField(_("Nachweis überfällig: Höchstsatz"), default=False)
    proof_reminder_sent_at = models.DateTimeField(null=True, blank=True)
    proof_uploaded_at = models.DateTimeField(_("Einkommensnachweis hochgeladen am"), null=True, blank=True)

    costs = models.DecimalField(_("Kosten (€)"), max_digits=10, decimal_places=2, null=True, blank=True)
    costs_reason = models.TextField(_("Begründung abweichender Kosten"), blank=True)
    contract_start = models.DateField(_("Vertragsbeginn"), null=True, blank=True)
    # The contract terms as sent with the Angebot (html per TERM_FIELDS key): later edits of the
    # institution's or the offer's terms never change a contract that was already sent.
    contract_terms = models.JSONField(_("Vertragsbedingungen (versandte Fassung)"), default=dict, blank=True,
                                      editable=False)
    contract_end = models.DateField(_("Vertragsende"), null=True, blank=True)
    contract_ended_at = models.DateTimeField(
        _("Platz freigegeben am"), null=True, blank=True,
        help_text=_("Das Vertragsende ist erreicht: der Platz ist wieder frei (täglich geprüft)."))
    signed_copy_deadline = models.DateField(_("Frist für das unterschriebene Angebot"), null=True, blank=True)
    offer_reminder_sent_at = models.DateTimeField(null=True, blank=True)
    care_deadline = models.DateField(
        _("Frist für Notfallkontakt und Abholberechtigte"), null=True, blank=True,
        help_text=_("Leer: bis zum Vertragsbeginn. Von der Leitung verlängert: das neue Datum."))
    offered_at = models.DateTimeField(_("Angebot gesendet am"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("angenommen am"), null=True, blank=True)
    ratified_at = models.DateTimeField(_("ratifiziert am"), null=True, blank=True)
    withdrawn_reason = models.TextField(_("Grund der Rücknahme"), blank=True)

    # Wunschliste: one child's applications to several offers, ranked by the family.
    wish_rank = models.PositiveSmallIntegerField(_("Wunsch"), null=True, blank=True,
                                                 help_text=_("1 = erster Wunsch"))
    desired_start = models.DateField(_("gewünschter Beginn"), null=True, blank=True)
    care_hours = models.PositiveSmallIntegerField(_("Betreuungsumfang (Stunden pro Woche)"), null=True, blank=True)
    lottery_number = models.PositiveIntegerField(
        _("Losnummer"), null=True, blank=True,
        help_text=_("Einmal bei der Anmeldung gezogen; entscheidet bei gleicher Punktzahl (kleinere zuerst)."))
    # Nachrücken: a freed place offered to the next child on the waiting list.
    place_offered_at = models.DateTimeField(_("Platz angeboten am"), null=True, blank=True)
    place_reserved_at = models.DateTimeField(
        _("Platz vorgemerkt am"), null=True, blank=True,
        help_text=_("Die Einrichtung führt vor der Aufnahme ein Gespräch: der Platz ist vergeben, die Einladung "
                    "steht aus."))
    place_accept_deadline = models.DateField(_("Frist zur Annahme des Platzes"), null=True, blank=True)

    created_at = models.DateTimeField(_("angelegt am"), auto_now_add=True)
    updated_at = models.DateTimeField(_("geändert am"), auto_now=True)

    class Meta:
        verbose_name = _("Anmeldung")
        verbose_name_plural = _("Anmeldungen")
        ordering = ["-created_at"]
        # The staff list (backoffice/enrollments.py), newest first: one institution's, in one status,
        # every institution's (superusers), one offer's. The offer's index holds the institution too: the list
        # of an offer counts and pages through the index alone, whichever institutions the user sees.
        # The participant in the institution's indexes covers the joins to the participant: the Notfalldaten
        # filter (status + the child's age) and the order by the participant's name read no enrollment row.
        indexes = [models.Index(fields=["institution", "-created_at"], name="workpro_enr_inst_created"),
                   models.Index(fields=["institution", "status", "created_at", "participant"],
                                name="workpro_enr_inst_status_part"),
                   models.Index(fields=["institution", "participant"], name="workpro_enr_inst_participant"),
                   models.Index(fields=["created_at"], name="workpro_enr_created"),
                   models.Index(fields=["offer", "created_at", "institution"], name="workpro_enr_offer_created")]
        permissions = [
            ("process_enrollment", _("Anmeldungen bearbeiten (einladen, entscheiden, Nachweise anfordern)")),
            ("sign_enrollment", _("Angebote unterschreiben und Verträge ratifizieren")),
        ]

    def __str__(self) -> str:
        who = self.participant.full_name if self.participant_id else _("ohne Teilnehmer")
        return f"{self.contract_number or '–'} {who}: {self.offer.title}"

    # --- transitions: they only set fields -------------------------------------------

    @transition(field=status, source=S.INTERESSENT, target=S.BEWERBER, permission=is_account_holder,
                conditions=[has_participant, phase_one_complete, print_is_current])
    def submit(self):
        self.submitted_at = timezone.now()

    @transition(field=status, source=S.BEWERBER, target=S.EINGELADEN, permission=is_institution_staff,
                conditions=[has_interview])
    def invite(self):
        pass

    # Staff decide; the system decides when a family accepts a place offered from the waiting list.
    @transition(field=status, source=[S.BEWERBER, S.EINGELADEN], target=RETURN_VALUE(S.KANDIDAT, S.ABGELEHNT),
                permission=is_system_or_staff)
    def decide(self, *, accept: bool, basis: str, reason: str = ""):
        # Only the interview's outcome waits for its date; other bases (a system decision) pass.
        if basis in (DecisionBasis.ATTENDED, DecisionBasis.NO_SHOW) and basis not in self.decision_bases():
            raise TransitionNotAllowed(f"basis {basis!r} not possible now", object=self, method=self.decide)
        self.decision_basis = basis
        self.decision_reason = reason
        self.decided_at = timezone.now()
        return S.KANDIDAT if accept else S.ABGELEHNT

    @transition(field=status, source=S.KANDIDAT, target=S.EINGESTUFT, permission=is_account_holder,
                conditions=[phase_two_complete, print_is_current])
    def classify(self):
        self.submitted_at = timezone.now()

    @transition(field=status, source=S.EINGESTUFT, target=S.ANGEBOT, permission=is_institution_lead,
                conditions=[offer_terms_complete])
    def make_offer(self):
        self.offered_at = timezone.now()

    @transition(field=status, source=S.ANGEBOT, target=S.ANGENOMMEN, permission=is_account_holder,
                conditions=[has_signed_copy, deadline_not_passed])
    def upload_signed(self):
        self.accepted_at = timezone.now()

    @transition(field=status, source=S.ANGENOMMEN, target=S.ANGEBOT, permission=is_institution_staff)
    def return_upload(self):
        self.accepted_at = None

    @transition(field=status, source=S.ANGENOMMEN, target=S.RATIFIZIERT, permission=is_institution_lead,
                conditions=[has_signed_copy])
    def ratify(self):
        self.ratified_at = timezone.now()

    @transition(field=status, source=S.ANGEBOT, target=S.ABGELAUFEN, permission=is_system_or_staff,
                conditions=[deadline_passed])
    def expire(self):
        pass

    @transition(field=status, source=[S.ABGELEHNT, S.ABGELAUFEN], target=RETURN_VALUE(S.BEWERBER, S.ANGEBOT),
                permission=is_institution_lead)
    def reopen(self, *, deadline=None):
        """Wieder öffnen: a rejection goes back to Bewerber (invite or decide anew, the old decision is
        cleared); an expired offer goes back to Angebot with a new deadline for the signed copy."""
        if self.status == S.ABGELEHNT:
            self.decision_basis, self.decision_reason, self.decided_at = "", "", None
            return S.BEWERBER
        if deadline is None or deadline < timezone.localdate():
            raise TransitionNotAllowed("an expired offer reopens only with a deadline not in the past",
                                       object=self, method=self.reopen)
        self.signed_copy_deadline, self.offer_reminder_sent_at = deadline, None
        return S.ANGEBOT

    @transition(field=status, source=list(OPEN_STATUSES), target=S.ZURUECKGEZOGEN,
                permission=is_system_holder_or_staff)
    def withdraw(self, *, reason: str = ""):
        self.withdrawn_reason = reason

    # --- reads ------------------------------------------------------------------------

    def interview_passed(self, now=None) -> bool:
        """The interview's date and time has come: only then can staff say how it went."""
        return self.interview_at is not None and self.interview_at <= (now or timezone.now())

    def decision_bases(self, now=None) -> list[str]:
        """The bases a decision may have now: "ohne Gespräch" always; "nach dem Gespräch" and
        "Nichterscheinen" only for an invited applicant once the interview's time has passed."""
        bases = [DecisionBasis.NO_INTERVIEW]
        if self.status == S.EINGELADEN and self.interview_passed(now):
            bases[:0] = [DecisionBasis.ATTENDED, DecisionBasis.NO_SHOW]
        return bases

    @property
    def question_definitions(self) -> list[dict]:
        """The offer's own questions this application is filled in under: the version kept with the
        enrollment once data were entered, before that the offer's current ones."""
        if self.questions is not None:
            return self.questions
        return self.offer.specific.question_definitions()

    def required_sections(self, phase: int | None = None) -> list[str]:
        """The sections of this application (the own questions in the version it was started with)."""
        return self.offer.specific.required_sections(phase=phase, questions=self.question_definitions)

    def section_plan(self) -> dict[str, int]:
        return self.offer.specific.section_plan(questions=self.question_definitions)

    def _prefetched_sections(self) -> list[EnrollmentSection] | None:
        """The sections, when a list prefetched them for its rows: as `section_rows` (a plain list, as
        selectors.enrollments.portal_contracts reads them) or into the related manager's cache."""
        rows = getattr(self, "section_rows", None)
        if rows is not None:
            return list(rows)
        cache = getattr(self, "_prefetched_objects_cache", {})
        return list(cache["sections"]) if "sections" in cache else None

    def sections_complete(self, *, phase: int) -> bool:
        required = set(self.required_sections(phase=phase))
        prefetched = self._prefetched_sections()
        done = ({s.section for s in prefetched if s.is_complete} if prefetched is not None
                else set(self.sections.filter(is_complete=True).values_list("section", flat=True)))
        return required <= done

    def application_data(self) -> dict:
        """Everything the printed application shows, in a canonical form."""
        participant = self.participant
        sections = self._prefetched_sections()
        if sections is None:
            sections = self.sections.order_by("section")
        return {
            "offer": self.offer_id,
            "participant": None if participant is None else {
                "last_name": participant.last_name, "first_name": participant.first_name,
                "date_of_birth": participant.date_of_birth.isoformat() if participant.date_of_birth else None,
                "street": participant.street, "postcode": participant.postcode, "city": participant.city,
                "email": participant.email, "mobile": participant.mobile,
            },
            "sections": {s.section: s.data for s in sorted(sections, key=lambda s: s.section)},
            # Only with questions: the fingerprint of an application without any stays what it was.
            **({"questions": self.questions} if self.questions else {}),
        }

    def data_fingerprint(self) -> str:
        canonical = json.dumps(self.application_data(), sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.sha256(canonical.encode()).hexdigest()

    def declared_income(self) -> Decimal | None:
        section = self.sections.filter(section="income").first()
        if section is None or not section.data.get("earners"):
            return None
        return sum((Decimal(str(e.get("annual_income") or 0)) for e in section.data["earners"]), Decimal(0))

    def computed_fee(self):
        schedule = self.offer.specific.fee_schedule
        if schedule is None:
            return None
        return schedule.compute(self.declared_income(), proof_overdue=self.proof_overdue)

    def fee_is_known(self) -> bool:
        """A fee can be stated: the schedule does not depend on income, or the income is declared (or overdue)."""
        offer = self.offer.specific
        schedule = offer.fee_schedule
        if schedule is None:
            return False
        return (not schedule.is_income_dependent or self.proof_overdue or "income" not in self.section_plan()
                or self.declared_income() is not None)

    @property
    def costs_period(self) -> str:
        """The billing period the costs are for ("monatlich"), from the offer's fee schedule."""
        schedule = self.offer.specific.fee_schedule
        return str(schedule.get_billing_period_display()) if schedule is not None else ""

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def proof_outstanding(self) -> bool:
        """Requested proof of income not yet received, on an application or a concluded contract."""
        return bool(self.proof_deadline and not self.proof_received_at
                    and (self.is_open or self.status == S.RATIFIZIERT))

    @property
    def proof_due(self) -> bool:
        """The account holder still has to upload the requested proof (none uploaded since the request)."""
        return self.proof_outstanding and not (
            self.proof_uploaded_at and self.proof_requested_at and self.proof_uploaded_at >= self.proof_requested_at)

    @property
    def next_step(self) -> str:
        """What the account holder has to do now: in the two application rounds it follows the data."""
        if self.proof_due:
            return str(_("Einkommensnachweis hochladen"))
        if self.status in (S.INTERESSENT, S.KANDIDAT):
            if self.participant_id is None:
                return str(APPLICATION_STEPS["choose_participant"])
            if not self.sections_complete(phase=1 if self.status == S.INTERESSENT else 2):
                return str(APPLICATION_STEPS["fill_sections" if self.status == S.INTERESSENT
                                             else "fill_sections_again"])
            if not print_is_current(self):
                return str(APPLICATION_STEPS["print"])
            return str(APPLICATION_STEPS["submit"])
        if self.place_reserved_at is not None and self.status == S.BEWERBER:
            return str(_("Platz vorgemerkt: Einladung zum Gespräch ausstehend."))
        return str(NEXT_STEPS.get(self.status, ""))

    @property
    def care_deadline_effective(self):
        """Notfallkontakt and Abholberechtigte are due by the contract start unless a Leitung extended it."""
        return self.care_deadline or self.contract_start

    @property
    def current_deadline(self):
        if self.status == S.ANGEBOT:
            return self.signed_copy_deadline
        if self.proof_due:
            return self.proof_deadline
        return None


class EnrollmentSection(models.Model):
    """The data of one application section, saved as a draft at every step."""

    enrollment = models.ForeignKey(Enrollment, on_delete=models.CASCADE, related_name="sections")
    section = models.CharField(_("Abschnitt"), max_length=20)
    data = models.JSONField(_("Angaben"), default=dict, blank=True)
    is_complete = models.BooleanField(_("vollständig"), default=False)
    updated_at = models.DateTimeField(_("geändert am"), auto_now=True)

    class Meta:
        verbose_name = _("Abschnitt der Anmeldung")
        verbose_name_plural = _("Abschnitte der Anmeldung")
        constraints = [models.UniqueConstraint(fields=["enrollment", "section"], name="workpro_unique_section")]


class EnrollmentLog(models.Model):
    """Audit trail: every transition and staff action on an enrollment."""

    enrollment = models.ForeignKey(Enrollment, on_delete=models.CASCADE, related_name="log_entries")
    action = models.CharField(_("Aktion"), max_length=80)
    from_status = models.CharField(_("von"), max_length=20, choices=S.choices, blank=True)
    to_status = models.CharField(_("nach"), max_length=20, choices=S.choices, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("durch"), null=True, blank=True,
                           on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(_("am"), default=timezone.now)
    note = models.TextField(_("Notiz"), blank=True)

    class Meta:
        verbose_name = _("Protokolleintrag")
        verbose_name_plural = _("Protokoll")
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{format_datetime(self.at)} {self.action}"

    @property
    def label(self) -> str:
        return log_label(self.action)


class Document(models.Model):
    """A document deposited for a person; deposited counts as delivered ("zugestellt")."""

    class Kind(models.TextChoices):
        APPLICATION = "application", _("Anmeldung")
        INVITATION = "invitation", _("Einladung")
        DECISION = "decision", _("Entscheidung")
        CONTRACT_OFFER = "contract_offer", _("Angebot (Vertrag)")
        SIGNED_CONTRACT = "signed_contract", _("Unterschriebenes Angebot")
        RATIFIED_CONTRACT = "ratified_contract", _("Ratifizierter Vertrag")
        PROOF = "proof", _("Einkommensnachweis")
        UPLOAD = "upload", _("Nachweis")
        CHAT_ATTACHMENT = "chat_attachment", _("Anhang einer Nachricht")
        OTHER = "other", _("Sonstiges")
        ADDON_CONFIRMATION = "addon_confirmation", _("Buchungsbestätigung Zusatzangebot")
        CHANGE_NOTICE = "change_notice", _("Änderungsmitteilung")

    class State(models.TextChoices):
        """A generated PDF is rendered after commit by a task: pending until its file is stored."""
        PENDING = "pending", _("wird erstellt")
        READY = "ready", _("bereit")
        FAILED = "failed", _("Erstellung fehlgeschlagen")

    owner = models.ForeignKey("workpro_plugin.Person", verbose_name=_("für"), null=True, blank=True,
                              on_delete=models.PROTECT, related_name="documents")
    enrollment = models.ForeignKey(Enrollment, verbose_name=_("Anmeldung"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="documents")
    kind = models.CharField(_("Art"), max_length=30, choices=Kind.choices)
    title = models.CharField(_("Titel"), max_length=200)
    file = models.FileField(_("Datei"), upload_to="documents/%Y/%m/", storage=private_storage, max_length=255,
                            blank=True)
    content_type = models.CharField(max_length=100, default="application/pdf")
    sha256 = models.CharField(max_length=64, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("hinterlegt von"), null=True,
                                    blank=True, on_delete=models.SET_NULL, related_name="+")
    deposited_at = models.DateTimeField(_("zugestellt am"), default=timezone.now)
    first_opened_at = models.DateTimeField(_("zuerst geöffnet am"), null=True, blank=True)
    superseded = models.BooleanField(_("ersetzt oder zurückgewiesen"), default=False)
    # What services/signatures.py found when the document was deposited (or checked again): one
    # entry per embedded signature, e.g. {"signer": ..., "signed_at": ISO, "intact": true, ...}.
    signatures = models.JSONField(_("digitale Signaturen"), default=list, blank=True)
    signatures_checked_at = models.DateTimeField(_("Signaturen geprüft am"), null=True, blank=True)
    # Rendering after commit (services/documents.py schedule_render): what to render with the data of
    # the moment of the action (`render_spec`), how often it was tried and the last error, for staff.
    state = models.CharField(_("Zustand"), max_length=10, choices=State.choices, default=State.READY)
    render_spec = models.JSONField(default=dict, blank=True)
    render_attempts = models.PositiveSmallIntegerField(_("Erstellungsversuche"), default=0)
    render_error = models.TextField(_("Fehler bei der Erstellung"), blank=True)
    render_claimed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("Dokument")
        verbose_name_plural = _("Dokumente")
        ordering = ["-deposited_at"]

    def __str__(self) -> str:
        return self.title

    @property
    def signature_summaries(self) -> list[dict]:
        """The stored signature checks, for display: who signed (name and role as given in the
        signature, the certificate's holder), when (a datetime) and pyHanko's verdict."""
        summaries = []
        for entry in self.signatures or []:
            signed_at = entry.get("signed_at") or ""
            holder = entry.get("signer") or ""
            who = entry.get("name") or holder or "?"
            if holder and holder not in who:
                who = f"{who} ({holder})"
            summaries.append({**entry, "who": who,
                              "signed_at": datetime.datetime.fromisoformat(signed_at) if signed_at else None})
        return summaries

    @property
    def is_ready(self) -> bool:
        return self.state == self.State.READY

    @property
    def is_pending(self) -> bool:
        return self.state == self.State.PENDING

    @property
    def is_failed(self) -> bool:
        return self.state == self.State.FAILED

    @property
    def filename(self) -> str:
        extension = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}.get(self.content_type, "bin")
        stem = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in self.title)[:80].strip("-")
        return f"{stem or 'dokument'}.{extension}"


class FeePeriod(models.Model):
    """One period of a contract's fee: from when, how much, why. The list is the fee history."""

    enrollment = models.ForeignKey(Enrollment, verbose_name=_("Vertrag"), on_delete=models.CASCADE,
                                   related_name="fee_periods")
    starts_on = models.DateField(_("ab"))
    amount = models.DecimalField(_("Betrag"), max_digits=10, decimal_places=2)
    reason = models.CharField(_("Grund"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("angelegt am"), auto_now_add=True)

    class Meta:
        verbose_name = _("Beitragszeitraum")
        verbose_name_plural = _("Beitragsverlauf")
        ordering = ["starts_on", "pk"]

    def __str__(self) -> str:
        return f"{self.starts_on:%d.%m.%Y} {self.amount}"
