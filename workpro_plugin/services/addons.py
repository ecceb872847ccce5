"""Zusatzangebote: booking add-on offers for a ratified contract, confirmed or declined by staff.

Each write locks the row it changes, checks who may act and the booking rules,
logs on the contract (action codes "workpro.enrollment.addon_*"), and queues the
mail to the account holder so it leaves only after commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_fsm import ConcurrentTransition, can_proceed, has_transition_perm

from ..access import PortalRole, portal_role
from ..lib.fees import REASON_LABELS, Fee
from ..lib.formats import format_date
from ..models import HOLDING_STATUSES, AddonBooking, Document, Enrollment, FeeSchedule, OfferPage
from . import privacy
from .documents import (  # noqa: F401 - render_addon_confirmation_pdf: re-exported, it lived here
    addon_confirmation_spec,
    render_addon_confirmation_pdf,
    schedule_render,
)
from .enrollments import log
from .errors import FieldError
from .notify import queue_mail

B = AddonBooking.Status
S = Enrollment.Status

CONSENT_TEXT = gettext_lazy(
    "Ich buche das Zusatzangebot verbindlich für den angegebenen Zeitraum zu den angezeigten Kosten. "
    "Die Buchung gilt, sobald die Einrichtung sie bestätigt.")


class AddonError(FieldError):
    """A refused booking action; `field` names the form field the message belongs to, if any."""


# --- reads ---------------------------------------------------------------------------------

def bookable_addons(enrollment: Enrollment):
    """The live add-ons linked to the contract's offer that can still be used within the contract.

    An add-on whose period ends before the contract starts (or before today), or starts after the
    contract ends, could only be refused when booked: it is not offered at all.
    """
    addons = enrollment.offer.specific.addons.live().select_related("fee_schedule").order_by("title")
    earliest = max(filter(None, [timezone.localdate(), enrollment.contract_start]))
    addons = addons.filter(Q(ends_on__isnull=True) | Q(ends_on__gte=earliest))
    if enrollment.contract_end:
        addons = addons.filter(Q(starts_on__isnull=True) | Q(starts_on__lte=enrollment.contract_end))
    return addons


def may_book(user, enrollment: Enrollment) -> bool:
    """Only the account holder books, and only for a ratified contract."""
    return enrollment.status == S.RATIFIZIERT and portal_role(user, enrollment) == PortalRole.HOLDER


def addon_fee(enrollment: Enrollment, addon: OfferPage) -> Fee | None:
    """The add-on's fee from its fee schedule and the income declared with the contract.

    Without a fee schedule there is no price list to apply: staff set the cost when
    they confirm, and the holder sees "Kosten nach Bestätigung" until then.
    """
    schedule = addon.fee_schedule
    if schedule is None:
        return None
    return schedule.compute(enrollment.declared_income(), proof_overdue=enrollment.proof_overdue)


@dataclass(frozen=True)
class AddonChoice:
    """One add-on as the booking page shows it."""

    addon: OfferPage
    fee: Fee | None
    billing_period: str

    @property
    def billing_period_label(self) -> str:
        return str(dict(FeeSchedule.BillingPeriod.choices).get(self.billing_period, ""))


def addon_choices(enrollment: Enrollment) -> list[AddonChoice]:
    choices = []
    for addon in bookable_addons(enrollment):
        schedule = addon.fee_schedule
        choices.append(AddonChoice(addon, addon_fee(enrollment, addon), schedule.billing_period if schedule else ""))
    return choices


def bookings_of(enrollment: Enrollment):
    return enrollment.addon_bookings.select_related("addon", "confirmation").order_by("-booked_at", "-pk")


# --- writes --------------------------------------------------------------------------------

def _fmt(day: date | None) -> str:
    return date_format(day, "DATE_FORMAT") if day else ""


def _check_period(enrollment: Enrollment, addon: OfferPage, starts_on: date, ends_on: date) -> None:
    if ends_on < starts_on:
        raise AddonError(_("Das Ende darf nicht vor dem Beginn liegen."), "ends_on")
    if starts_on < timezone.localdate():
        raise AddonError(_("Der Zeitraum darf nicht in der Vergangenheit beginnen."), "starts_on")
    if addon.starts_on and starts_on < addon.starts_on:
        raise AddonError(_("„%(addon)s“ ist frühestens ab dem %(date)s buchbar.")
                         % {"addon": addon.title, "date": _fmt(addon.starts_on)}, "starts_on")
    if addon.ends_on and ends_on > addon.ends_on:
        raise AddonError(_("„%(addon)s“ ist längstens bis zum %(date)s buchbar.")
                         % {"addon": addon.title, "date": _fmt(addon.ends_on)}, "ends_on")
    if enrollment.contract_start and starts_on < enrollment.contract_start:
        raise AddonError(_("Der Zeitraum muss in der Vertragslaufzeit liegen; der Vertrag beginnt am %(date)s.")
                         % {"date": _fmt(enrollment.contract_start)}, "starts_on")
    if enrollment.contract_end and ends_on > enrollment.contract_end:
        raise AddonError(_("Der Zeitraum muss in der Vertragslaufzeit liegen; der Vertrag endet am %(date)s.")
                         % {"date": _fmt(enrollment.contract_end)}, "ends_on")


def _is_full(addon: OfferPage, starts_on: date, ends_on: date, *, exclude: int | None = None) -> bool:
    """Confirmed bookings overlapping the period use up the add-on's places (a conservative count)."""
    if addon.capacity is None:
        return False
    overlapping = AddonBooking.objects.filter(addon=addon, status=B.CONFIRMED, starts_on__lte=ends_on,
                                              ends_on__gte=starts_on).exclude(pk=exclude)
    return overlapping.count() >= addon.capacity


def _locked_enrollment(enrollment: Enrollment | int) -> Enrollment:
    pk = enrollment.pk if isinstance(enrollment, Enrollment) else enrollment
    return (Enrollment.objects.select_for_update(of=("self",))
            .select_related("institution__site", "offer", "participant", "account_holder__workpro_person")
            .get(pk=pk))


def _locked_booking(booking: AddonBooking | int) -> AddonBooking:
    pk = booking.pk if isinstance(booking, AddonBooking) else booking
    return (AddonBooking.objects.select_for_update(of=("self",))
            .select_related("enrollment__institution__site", "enrollment__institution__operator",
                            "enrollment__participant", "enrollment__account_holder__workpro_person",
                            "enrollment__offer", "addon__fee_schedule")
            .get(pk=pk))


def addon_book(*, enrollment: Enrollment | int, addon: OfferPage, by, starts_on: date, ends_on: date,
               consent: bool, note: str = "") -> AddonBooking:
    """Zusatzangebot buchen: the account holder of a ratified contract requests an add-on of its offer.

    The period must lie within the add-on's dates and the contract's term, must not
    overlap a pending or confirmed booking of the same add-on, and needs consent.
    """
    with transaction.atomic():
        locked = _locked_enrollment(enrollment)
        if portal_role(by, locked) != PortalRole.HOLDER:
            raise AddonError(_("Diese Aktion ist Ihnen nicht erlaubt."))
        if locked.status != S.RATIFIZIERT:
            raise AddonError(_("Zusatzangebote können nur zu einem ratifizierten Vertrag gebucht werden."))
        if not bookable_addons(locked).filter(pk=addon.pk).exists():
            raise AddonError(_("Dieses Zusatzangebot ist zu diesem Vertrag nicht buchbar."))
        addon = OfferPage.objects.select_related("fee_schedule").get(pk=addon.pk)
        if not consent:
            raise AddonError(_("Bitte stimmen Sie der verbindlichen Buchung zu."), "consent")
        _check_period(locked, addon, starts_on, ends_on)
        clash = (AddonBooking.objects.filter(enrollment=locked, addon=addon, status__in=HOLDING_STATUSES,
                                             starts_on__lte=ends_on, ends_on__gte=starts_on)
                 .order_by("starts_on").first())
        if clash is not None:
            raise AddonError(_("„%(addon)s“ ist für diesen Vertrag vom %(start)s bis %(end)s bereits gebucht "
                               "(Status: %(status)s).")
                             % {"addon": addon.title, "start": _fmt(clash.starts_on), "end": _fmt(clash.ends_on),
                                "status": clash.get_status_display()})
        if _is_full(addon, starts_on, ends_on):
            raise AddonError(_("Für diesen Zeitraum sind alle Plätze von „%(addon)s“ belegt.") % {"addon": addon.title})
        fee = addon_fee(locked, addon)
        booking = AddonBooking.objects.create(
            enrollment=locked, addon=addon, starts_on=starts_on, ends_on=ends_on, note=note.strip(),
            consent_at=timezone.now(), consent_text=str(CONSENT_TEXT), booked_by=by,
            cost=fee.amount if fee else None,
            billing_period=addon.fee_schedule.billing_period if fee else "",
            cost_reason=str(REASON_LABELS[fee.reason]) if fee else "",
        )
        log(locked, action="addon_requested", by=by, note=_booking_note(booking))
        _mail(booking, "requested")
    return booking


def addon_cancel(*, booking: AddonBooking | int, by) -> AddonBooking:
    """Buchung zurückziehen: the account holder withdraws a booking staff have not decided yet."""
    return _transition(booking, by=by, name="cancel", event="cancelled")


def addon_confirm(*, booking: AddonBooking | int, by, cost: Decimal | None = None, cost_reason: str = ""
                  ) -> AddonBooking:
    """Bestätigen: staff fix the cost (a deviation from the fee schedule needs a reason).

    A confirmation document is deposited with the contract and mailed to the account holder: rendered
    after commit from the booking as confirmed (addon_confirmation_spec); the mail waits for it.
    """
    def prepare(b: AddonBooking) -> dict:
        final = b.cost if cost is None else cost
        if final is None:
            raise AddonError(_("Bitte geben Sie die Kosten an."), "cost")
        if final < 0:
            raise AddonError(_("Die Kosten dürfen nicht negativ sein."), "cost")
        reason = cost_reason.strip()
        if b.cost is not None and final != b.cost and not reason:
            raise AddonError(_("Die Kosten weichen von der Gebührenordnung (%(amount)s €) ab: bitte begründen.")
                             % {"amount": b.cost}, "cost_reason")
        if b.enrollment.status != S.RATIFIZIERT:
            raise AddonError(_("Der Vertrag ist nicht mehr ratifiziert."))
        if _is_full(b.addon, b.starts_on, b.ends_on, exclude=b.pk):
            raise AddonError(_("Für diesen Zeitraum sind alle Plätze von „%(addon)s“ belegt.")
                             % {"addon": b.addon.title})
        return {"by": by, "cost": final, "cost_reason": reason or b.cost_reason}

    def confirmation(b: AddonBooking) -> list[Document]:
        title = _("Buchungsbestätigung %(addon)s (%(number)s)") % {"addon": b.addon.title,
                                                                  "number": b.enrollment.contract_number or ""}
        document = schedule_render(kind=Document.Kind.ADDON_CONFIRMATION, title=title[:200], enrollment=b.enrollment,
                                   by=by, renderer="addon_confirmation", spec=addon_confirmation_spec(b))
        b.confirmation = document
        b.save(update_fields=["confirmation"])
        return [document]

    return _transition(booking, by=by, name="confirm", event="confirmed", prepare=prepare, produce=confirmation)


def addon_decline(*, booking: AddonBooking | int, by, reason: str) -> AddonBooking:
    """Ablehnen: only with a reason, which the account holder reads in the mail."""
    if not reason.strip():
        raise AddonError(_("Bitte geben Sie einen Grund an."), "reason")
    return _transition(booking, by=by, name="decline", event="declined",
                       prepare=lambda b: {"by": by, "reason": reason.strip()})


def _transition(booking, *, by, name: str, event: str, prepare=None, produce=None) -> AddonBooking:
    with transaction.atomic():
        locked = _locked_booking(booking)
        method = getattr(locked, name)
        if not can_proceed(method):
            raise AddonError(_("Diese Aktion ist im Status „%(status)s“ nicht möglich.")
                             % {"status": locked.get_status_display()})
        if not has_transition_perm(method, by):
            raise AddonError(_("Diese Aktion ist Ihnen nicht erlaubt."))
        kwargs = prepare(locked) if prepare is not None else {}
        method(**kwargs)
        try:
            locked.save()
        except ConcurrentTransition as exc:
            raise AddonError(_("Die Buchung wurde inzwischen von jemand anderem geändert. "
                               "Bitte laden Sie die Seite neu.")) from exc
        documents = produce(locked) if produce is not None else []
        note = _booking_note(locked)
        if name == "decline":
            note = f"{note}: {locked.decline_reason}"
        log(locked.enrollment, action=f"addon_{event}", by=by, note=note)
        _mail(locked, event, documents=documents)
    return locked


def _booking_note(booking: AddonBooking) -> str:
    return f"{booking.addon.title}, {format_date(booking.starts_on)}–{format_date(booking.ends_on)}"


def _mail(booking: AddonBooking, event: str, *, documents=()) -> None:
    """Mail the account holder; the confirmation goes with it "zur Ablage" (the mail waits until it is rendered)."""
    enrollment = booking.enrollment
    holder = enrollment.account_holder
    if holder is None or not holder.email:
        return
    person = getattr(holder, "workpro_person", None)
    participant = enrollment.participant
    queue_mail(to=holder.email, template="addon_booking", institution=enrollment.institution, person=person,
               language=person.language if person else None, context={
                   "event": event,
                   "addon": booking.addon.title,
                   "offer": enrollment.offer.title,
                   "participant": participant.full_name if participant else "",
                   "contract_number": enrollment.contract_number or "",
                   "starts_on": booking.starts_on.isoformat(),
                   "ends_on": booking.ends_on.isoformat(),
                   "cost": str(booking.cost) if booking.cost is not None else "",
                   "billing_period": booking.billing_period,
                   "reason": booking.decline_reason,
                   "portal_path": reverse("workpro:enrollment_addons", args=[enrollment.pk]),
                   "document_ids": [document.pk for document in documents],
               }, wait_for_documents=any(not document.is_ready for document in documents))


# --- data protection: export and erasure -------------------------------------------------------

def addon_bookings_export(person, institutions=None) -> list[dict]:
    """The export section: bookings on the contracts the person takes part in or holds (only those
    at `institutions` when given)."""
    enrollments = privacy.enrollments_of(person)
    if institutions is not None:
        enrollments = enrollments.filter(institution_id__in=institutions)
    bookings = (AddonBooking.objects.filter(enrollment__in=enrollments.values("pk"))
                .select_related("addon", "enrollment", "booked_by", "decided_by", "confirmation")
                .order_by("booked_at", "pk"))
    return [{
        "id": b.pk, "enrollment": b.enrollment_id, "contract_number": b.enrollment.contract_number,
        "addon": b.addon.title, "starts_on": b.starts_on, "ends_on": b.ends_on,
        "status": b.status, "status_label": str(b.get_status_display()), "note": b.note,
        "consent_at": b.consent_at, "consent_text": b.consent_text,
        "cost": b.cost, "billing_period": b.billing_period, "cost_reason": b.cost_reason,
        "booked_by": privacy.actor_name(b.booked_by) if b.booked_by_id else None, "booked_at": b.booked_at,
        "decided_by": privacy.actor_name(b.decided_by) if b.decided_by_id else None, "decided_at": b.decided_at,
        "decline_reason": b.decline_reason, "cancelled_at": b.cancelled_at,
        # the path of its file in the export, once rendered (a pending one is listed without a file)
        "confirmation": privacy.document_path(b.confirmation) if b.confirmation_id and b.confirmation.is_ready
        else None,
    } for b in bookings]


def addon_bookings_erase(person) -> int:
    """A booking stays as the record of what was booked, consented to and charged (period, status,
    cost, consent time and wording), now tied to the anonymised person only. Anonymisation comes after
    the contract's retention, so the proof was kept as long as needed. The free texts about the
    person go: their note and the reasons for the cost and for a decline. The confirmation PDF is
    deleted with the person's documents."""
    return (AddonBooking.objects.filter(enrollment__participant=person)
            .update(note="", cost_reason="", decline_reason=""))


privacy.register_exporter("addon_bookings", addon_bookings_export, scoped=True)
privacy.register_eraser("addon_bookings", addon_bookings_erase)
