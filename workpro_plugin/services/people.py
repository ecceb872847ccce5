"""Help a person: staff of the person's institution correct contact data and send a new password.

Both need a reason and are recorded in the audit log (who, what, why). Staff never choose where a
login identity goes without proof: a corrected mail address is only proposed to the person (the
confirmation link goes to the new address, see accounts.account_request_email_change), and a new
password goes only to the mobile number or mail address already stored. A mobile number staff
corrected is announced to the stored mail address and cannot receive a password from staff for a
week: otherwise one staff member could redirect the login to a phone of their choosing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from ..access import is_chat_staff
from ..models import AuditEvent, LoginChange, Person
from ..selectors.people import person_institutions
from . import audit
from .accounts import (
    _address_taken,
    _close_open_changes,
    _is_staff_account,
    _issue_password,
    _sms_allowed,
    account_request_email_change,
    normalize_email,
)
from .errors import ServiceError
from .notify import queue_mail, queue_sms

CONTACT_FIELDS = ("street", "postcode", "city", "mobile")
STAFF_MOBILE_QUARANTINE = timedelta(days=7)


class PersonHelpError(ServiceError):
    """A correction or password refused; the message (German) names the field when there is one."""


class Channel:
    SMS = "sms"
    MAIL = "mail"


class IdentityCheck:
    IN_PERSON = "persoenlich"
    PHONE = "telefon"


@dataclass(frozen=True)
class ContactCorrection:
    changed: list[str]
    email_pending: str = ""  # the new address awaiting its owner's confirmation


def _institution_for(person: Person, by):
    """The person's institution `by` helps for (the first whose Sachbearbeitung or Leitung they are), else None."""
    return next((i for i in person_institutions(person).select_related("site") if is_chat_staff(by, i)), None)


def _checked(person_pk: int, by, reason: str) -> tuple[Person, object]:
    person = Person.objects.select_for_update(of=("self",)).select_related("user").get(pk=person_pk)
    institution = _institution_for(person, by)
    if institution is None:
        raise PersonHelpError(_("Diese Aktion ist Ihnen nicht erlaubt."))
    if person.anonymised_at is not None:
        raise PersonHelpError(_("Die Daten dieser Person wurden anonymisiert."))
    if person.user_id and _is_staff_account(person.user):
        raise PersonHelpError(_("Mitarbeiterkonten werden von ihrer Leitung oder einem Administrator betreut."))
    if not (reason or "").strip():
        raise PersonHelpError(_("Bitte geben Sie einen Grund an."), field="reason")
    return person, institution


def person_correct_contact(*, person: Person, by, street: str, postcode: str, city: str, mobile: str,
                           email: str, reason: str) -> ContactCorrection:
    """Address and mobile change at once; a new mail address of an account only after its owner confirmed it
    through the link mailed to that address. A new mobile number is announced to the stored mail address."""
    with transaction.atomic():
        person, institution = _checked(person.pk, by, reason)
        new = {"street": street.strip(), "postcode": postcode.strip(), "city": city.strip(), "mobile": mobile}
        changed = [field for field, value in new.items() if getattr(person, field) != value]
        old_mobile = person.mobile
        email = normalize_email(email or "")
        current = normalize_email(person.user.email if person.user_id else person.email)
        email_pending = ""
        if email != current:
            if not email:
                raise PersonHelpError(_("Die Mailadresse kann nicht gelöscht werden."), field="email")
            if person.user_id is None:
                new["email"] = email  # no login: contact data like the address
                changed.append("email")
            elif _address_taken(email, user=person.user):
                raise PersonHelpError(_("Diese Mailadresse wird bereits für ein anderes Konto verwendet."),
                                      field="email")
            else:
                email_pending = email
        if not changed and not email_pending:
            raise PersonHelpError(_("Sie haben nichts geändert."))
        for field, value in new.items():
            setattr(person, field, value)
        person.save(update_fields=[*new, "updated_at"])
        audit.record(audit.A.CONTACT_CORRECTED, actor=by, obj=person, person=person,
                     detail={"fields": changed, "email_pending": bool(email_pending), "reason": reason.strip(),
                             "institution": institution.pk, "mobile_changed": "mobile" in changed})
        if email_pending:
            account_request_email_change(user=person.user, new_email=email_pending)
        stored_mail = person.user.email if person.user_id else ""
        if "mobile" in changed and stored_mail:
            queue_mail(to=stored_mail, template="mobile_changed", language=person.language, person=person,
                       institution=institution,
                       context={"first_name": person.first_name, "old_mobile": old_mobile[-4:] if old_mobile else "",
                                "new_mobile": person.mobile[-4:] if person.mobile else ""})
    return ContactCorrection(changed=changed, email_pending=email_pending)


def _mobile_changed_by_staff(person: Person, now) -> bool:
    return AuditEvent.objects.filter(person=person, action=audit.A.CONTACT_CORRECTED, detail__mobile_changed=True,
                                     at__gte=now - STAFF_MOBILE_QUARANTINE).exists()


def person_send_password(*, person: Person, by, channel: str, identity_check: str, reason: str) -> str:
    """A new issued password (72 hours, the person sets an own one at login) to the stored mobile number or
    mail address, after staff checked the person's identity in person or by phone. Returns the channel."""
    now = timezone.now()
    with transaction.atomic():
        person, institution = _checked(person.pk, by, reason)
        if identity_check not in (IdentityCheck.IN_PERSON, IdentityCheck.PHONE):
            raise PersonHelpError(_("Bitte bestätigen Sie, wie Sie die Identität geprüft haben."),
                                  field="identity_check")
        if person.user_id is None or not person.user.is_active:
            raise PersonHelpError(_("Diese Person hat kein eigenes Konto."))
        user = get_user_model().objects.select_for_update().get(pk=person.user_id)
        if channel == Channel.SMS:
            if not person.mobile:
                raise PersonHelpError(_("Es ist keine Handynummer hinterlegt."), field="channel")
            if _mobile_changed_by_staff(person, now):
                raise PersonHelpError(_("Die Handynummer wurde in den letzten 7 Tagen von der Einrichtung geändert. "
                                        "Bitte senden Sie das Passwort an die Mailadresse."), field="channel")
            if not _sms_allowed(person, now):
                raise PersonHelpError(_("Für diese Person wurden zu viele SMS verschickt. Bitte später erneut "
                                        "versuchen oder die Mailadresse wählen."), field="channel")
        elif channel == Channel.MAIL:
            if not user.email:
                raise PersonHelpError(_("Es ist keine Mailadresse hinterlegt."), field="channel")
        else:
            raise PersonHelpError(_("Bitte wählen Sie, wohin das Passwort gesendet wird."), field="channel")
        password = _issue_password(person)
        _close_open_changes(user, LoginChange.Kind.SMS, now)  # an older SMS password stops working
        audit.record(audit.A.PASSWORD_SENT, actor=by, obj=person, person=person,
                     detail={"channel": channel, "identity_check": identity_check, "reason": reason.strip(),
                             "institution": institution.pk})
        context = {"password": password, "email": user.email, "first_name": person.first_name,
                   "login_url": reverse("workpro:login")}
        if channel == Channel.SMS:
            queue_sms(to=person.mobile, template="password_issued", language=person.language,
                      institution=institution, person=person, secret_keys=("password",), context=context)
        else:
            queue_mail(to=user.email, template="password_issued", language=person.language,
                       institution=institution, person=person, secret_keys=("password",), context=context)
    return channel
