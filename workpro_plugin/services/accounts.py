"""Accounts: registration on an offer, issued passwords, the password request by SMS."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password, make_password
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import conf
from ..lib.formats import format_date
from ..lib.users import by_login, login_fields, set_login
from ..models import (
    CLOSED_STATUSES,
    ISSUED_PASSWORD_VALIDITY,
    STANDING_STATUSES,
    Enrollment,
    Institution,
    LoginChange,
    OfferPage,
    OutboxMessage,
    Person,
    PrivacyLog,
)
from . import audit, privacy
from .enrollments import enrollment_withdraw
from .errors import ServiceError
from .notify import queue_mail, queue_sms

# No 0/O, 1/l/I: issued passwords are read from an SMS and typed on a phone.
PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
SMS_LIMITS = ((timedelta(hours=1), 2), (timedelta(days=1), 5))
S = Enrollment.Status


def generate_password(groups: int = 3, size: int = 4) -> str:
    """e.g. 'k7mq-4rtp-9wx2': 12 random characters (~59 bits), easy to type."""
    return "-".join("".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(size)) for _ in range(groups))


def normalize_email(email: str) -> str:
    return email.strip().lower()


def _issue_password(person: Person) -> str:
    password = generate_password()
    person.user.set_password(password)
    person.user.save(update_fields=["password"])
    person.password_issued_at = timezone.now()
    person.must_set_password = True
    person.save(update_fields=["password_issued_at", "must_set_password", "updated_at"])
    return password


@dataclass(frozen=True)
class RegistrationResult:
    """What a registration did; for a known address: nothing (person and enrollment None)."""

    person: Person | None
    enrollment: Enrollment | None
    created_account: bool


@transaction.atomic
def account_register(
    *, offer: OfferPage, last_name: str, first_name: str, email: str, language: str = "de",
    privacy_text: str | None = None, ip: str | None = None,
) -> RegistrationResult:
    """Register interest in an offer: one account per email, an enrollment in state interessent.

    Only a new address gets an account: the person, the privacy consent (text, time, IP), the
    interest and the welcome mail with the issued password.

    A known address gets nothing attached: a visitor cannot tie someone else's account to an
    institution (whose staff would then see and export the person). The owner is mailed instead
    and decides after logging in ("Zum Angebot anmelden" on the offer page). Staff and superuser
    accounts get the same mail as everyone else, so it reveals nothing about the account. The
    visitor sees the same page either way, and both paths hash one password (no timing
    difference). The same form sent twice within minutes sends no second mail.
    """
    User = get_user_model()
    email = normalize_email(email)
    institution = offer.get_institution()
    user = User.objects.select_for_update().filter(by_login(email)).first()
    context = {"offer_title": offer.title, "offer_url": offer.get_url(), "login_url": reverse("workpro:login"),
               "password_request_url": reverse("workpro:password_request"), "email": email,
               "offer_link": offer.get_full_url()}
    if user is None:
        try:
            # A parallel registration of the same address may win the insert; then we are the second one.
            with transaction.atomic():
                user = User.objects.create(**login_fields(email), first_name=first_name, last_name=last_name)
        except IntegrityError:
            user = User.objects.select_for_update().get(by_login(email))
        else:
            person = Person.objects.create(user=user, last_name=last_name, first_name=first_name, email=email,
                                           language=language)
            _record_consent(person, offer, privacy_text, ip)
            password = _issue_password(person)
            enrollment = _record_interest(offer=offer, institution=institution, user=user)
            queue_mail(to=email, template="registration_welcome", language=language, institution=institution,
                       person=person, secret_keys=("password",),
                       context={**context, "first_name": first_name, "last_name": last_name, "password": password})
            return RegistrationResult(person=person, enrollment=enrollment, created_account=True)

    make_password(generate_password())  # the new-address path hashes the issued password: same work
    # Only the account's own data goes into the mail, never what the visitor typed (no text of a
    # stranger's choosing in a mail from the institution).
    person = Person.objects.filter(user=user).first()
    if not _registration_mail_just_sent(email, offer):
        queue_mail(to=email, template="registration_existing", institution=institution,
                   language=person.language if person is not None else language, person=person,
                   context={**context, "first_name": person.first_name if person else user.first_name,
                            "last_name": person.last_name if person else user.last_name})
    return RegistrationResult(person=None, enrollment=None, created_account=False)


REPEAT_REGISTRATION_WINDOW = timedelta(minutes=10)


def _registration_mail_just_sent(email: str, offer: OfferPage) -> bool:
    """The same registration again within minutes is a double submit: the first mail suffices."""
    return OutboxMessage.objects.filter(
        recipient=email, template__in=("registration_welcome", "registration_existing"),
        context__offer_title=offer.title, created_at__gte=timezone.now() - REPEAT_REGISTRATION_WINDOW,
    ).exists()


def _record_consent(person: Person, offer: OfferPage, text: str | None, ip: str | None) -> None:
    if text:
        privacy.consent_record(kind="privacy", text=text, person=person, subject=offer.title, ip=ip)


def _record_interest(*, offer: OfferPage, institution: Institution, user) -> Enrollment:
    existing = Enrollment.objects.filter(offer=offer, account_holder=user, status__in=STANDING_STATUSES).first()
    if existing:
        return existing
    return Enrollment.objects.create(offer=offer, institution=institution, account_holder=user)


@transaction.atomic
def account_set_password(*, user, password: str) -> None:
    """The user's own password replaces the issued one; the 72-hour clock stops."""
    user.set_password(password)
    user.save(update_fields=["password"])
    Person.objects.filter(user=user).update(must_set_password=False, password_issued_at=None,
                                            updated_at=timezone.now())


# --- Neues Passwort anfordern ---------------------------------------------------

@dataclass(frozen=True)
class PasswordRequest:
    last_name: str
    first_name: str
    date_of_birth: date | None
    email: str
    mobile: str = ""           # normalised E.164, or ""
    customer_number: str = ""


class RateLimited(ServiceError):
    """A limit was reached; `scope` says which one (e.g. "register-email")."""

    def __init__(self, scope: str = ""):
        super().__init__(scope)
        self.scope = scope


def check_request_rate(subject: str, *, limit: int = 10, window: int = 3600, scope: str = "pwrequest-ip") -> None:
    """At most `limit` requests per `window` seconds for one subject of a scope.

    By default: password requests per client address and hour. Client addresses can be
    rotated, so the forms also count per target (see check_registration_rate and
    check_password_request_rate). Subjects are hashed: the cache holds no addresses or names.
    """
    digest = hashlib.sha256(subject.encode()).hexdigest()[:32]
    key = f"workpro:rate:{scope}:{window}:{digest}"
    cache.add(key, 0, window)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr: this is the first request of a new window
        cache.add(key, 1, window)
        count = 1
    if count > limit:
        raise RateLimited(scope)


# (window in seconds, limit) pairs; a setting of the same name overrides them.
DEFAULT_REGISTRATION_EMAIL_LIMITS = conf.DEFAULTS["REGISTRATION_EMAIL_LIMITS"]
DEFAULT_PASSWORD_REQUEST_IDENTITY_LIMITS = conf.DEFAULTS["PASSWORD_REQUEST_IDENTITY_LIMITS"]
DEFAULT_PASSWORD_REQUEST_NAME_LIMITS = conf.DEFAULTS["PASSWORD_REQUEST_NAME_LIMITS"]


def _limits(name: str) -> tuple:
    return tuple(conf.get(name))


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()


def check_registration_rate(email: str) -> None:
    """Registrations of one mail address, from whatever client address (each can send a mail)."""
    for window, limit in _limits("REGISTRATION_EMAIL_LIMITS"):
        check_request_rate(normalize_email(email), limit=limit, window=window, scope="register-email")


def check_password_request_rate(data: PasswordRequest) -> None:
    """Password requests for one identity, from whatever client address.

    Counted per name and birth date as typed (guessing the customer number or the mobile
    number) and per name alone (guessing the birth date), whether or not anybody matches:
    the refusal tells nothing about who exists.
    """
    name = f"{_fold(data.last_name)}|{_fold(data.first_name)}"
    for window, limit in _limits("PASSWORD_REQUEST_IDENTITY_LIMITS"):
        born = data.date_of_birth.isoformat() if data.date_of_birth else ""
        check_request_rate(f"{name}|{born}", limit=limit, window=window,
                           scope="pwrequest-identity")
    for window, limit in _limits("PASSWORD_REQUEST_NAME_LIMITS"):
        check_request_rate(name, limit=limit, window=window, scope="pwrequest-name")


def _login_email(user) -> str:
    return normalize_email(user.email or user.get_username())


def _facts(person: Person, data: PasswordRequest) -> tuple[int, bool, bool]:
    """(facts that match, one of them ties to the account: mobile or Kundennummer, a typed fact contradicts).

    A fact the person has no record of (no birth date, no Kundennummer, e.g. a parent who registered
    on the website) neither counts nor contradicts: the check uses what is on file.
    """
    count, tied, contradicts = 0, False, False
    if data.date_of_birth and person.date_of_birth:
        if data.date_of_birth == person.date_of_birth:
            count += 1
        else:
            contradicts = True
    if data.mobile and person.mobile:
        if data.mobile == person.mobile:
            count, tied = count + 1, True
        else:
            contradicts = True
    number = data.customer_number.strip().upper()
    if number and person.customer_number:
        if number == person.customer_number.upper():
            count, tied = count + 1, True
        else:
            contradicts = True
    if normalize_email(data.email) == _login_email(person.user):
        count += 1  # the registered address; another one is the address wanted from now on, no contradiction
    return count, tied, contradicts


def _candidates(data: PasswordRequest):
    return Person.objects.select_related("user").filter(
        user__isnull=False, user__is_active=True, last_name__iexact=data.last_name.strip(),
        first_name__iexact=data.first_name.strip(),
    )


def _match(data: PasswordRequest) -> Person | None:
    """The one person the data identify for an SMS: name and at least two more facts on file, one of
    them the mobile number or the Kundennummer, and none contradicting.

    That is never less than before (name, birth date and mobile number or Kundennummer), but it also
    fits people who have no birth date or Kundennummer on file: name, registered address and mobile
    number. The SMS goes only to the mobile number on file: the phone remains the proof.
    """
    matches = []
    for person in _candidates(data):
        count, tied, contradicts = _facts(person, data)
        if count >= 2 and tied and not contradicts:
            matches.append(person)
    return matches[0] if len(matches) == 1 else None


def _mail_match(data: PasswordRequest) -> Person | None:
    """Someone who never replaced the issued password (e.g. it expired): name and registered address.

    The new password goes to that registered address only, the channel the first one went to.
    """
    email = normalize_email(data.email)
    matches = [person for person in _candidates(data).filter(must_set_password=True)
               if _login_email(person.user) == email and not _facts(person, data)[2]]
    return matches[0] if len(matches) == 1 else None


def _is_staff_account(user) -> bool:
    """Staff recover through their Leitung or a superuser, never by SMS: the phone alone would move the
    login to an address of the requester's choosing, where the 2FA enrolment link is mailed next."""
    return bool(user.is_staff or user.is_superuser or user.groups.exists()
                or user.has_perm("wagtailadmin.access_admin"))


def _address_taken(email: str, *, user) -> bool:
    """Another account logs in with `email` or has it as its address (a username that is not an address,
    e.g. a superuser made by createsuperuser): no login moves there."""
    return get_user_model().objects.filter(by_login(email) | Q(email__iexact=email)).exclude(pk=user.pk).exists()


def _sms_allowed(person: Person, now) -> bool:
    sent = OutboxMessage.objects.filter(person=person, channel=OutboxMessage.Channel.SMS,
                                        template="password_issued")
    return all(sent.filter(created_at__gte=now - window).count() < limit for window, limit in SMS_LIMITS)


def _reissue_allowed(person: Person, now) -> bool:
    """Mailed passwords count like SMS ones: a stranger cannot flood a mailbox or keep replacing it."""
    sent = OutboxMessage.objects.filter(person=person, channel=OutboxMessage.Channel.MAIL,
                                        template="password_reissued")
    return all(sent.filter(created_at__gte=now - window).count() < limit for window, limit in SMS_LIMITS)


def _institution_of(person: Person, fallback: Institution | None) -> Institution | None:
    enrollment = Enrollment.objects.filter(account_holder=person.user).select_related("institution").first()
    return enrollment.institution if enrollment else fallback


def _close_open_changes(user, kind: str, now) -> None:
    """A newer request replaces an open one of the same kind: its link or SMS password stops working.

    An SMS password's hash is dropped with it; a link keeps the hash of its random token, so that a
    later click can be told that the link was replaced or used.
    """
    rows = LoginChange.objects.filter(user=user, kind=kind, closed_at__isnull=True)
    if kind == LoginChange.Kind.SMS:
        rows.update(closed_at=now, secret="")
    else:
        rows.update(closed_at=now)


@transaction.atomic
def password_request(*, data: PasswordRequest, site_institution: Institution | None) -> str:
    """Verify identifying data; on a unique match send a new password by SMS, or by mail to the
    registered address to someone who never replaced the issued password ("ggf. erneut anfordern").

    Nothing about the account changes for an SMS: the SMS password and the address given are stored as
    a pending login change (LoginChange, kind sms). They take effect only when that password is
    used to log in with that address (see password_request_redeem): the phone is the proof. Until
    then the old address and password keep working; when the address given is a new one, the old
    address is told that a change was requested. A mailed password replaces the issued one at once,
    as the registration did: it reaches only the registered mailbox and the login does not move.

    Staff accounts get nothing (they recover through their Leitung or a superuser).

    Returns an outcome code for logging and tests ("sms", "mail", "no_mobile", "limited", "staff",
    "no_match"); the caller shows the same page for every outcome, and every outcome hashes one
    password (the same work whether or not an account exists).
    """
    now = timezone.now()
    sms_match = _match(data)
    person = sms_match or _mail_match(data)
    if person is None:
        make_password(generate_password())  # same hashing work as a match: no timing oracle
        return "no_match"
    # One request per person at a time: the SMS limit counts the rows earlier requests wrote,
    # so parallel requests must wait here until those are committed.
    person = Person.objects.select_for_update(of=("self",)).select_related("user").get(pk=person.pk)
    if _is_staff_account(person.user):
        make_password(generate_password())
        return "staff"
    institution = _institution_of(person, site_institution)
    by_mail = person.must_set_password and normalize_email(data.email) == _login_email(person.user)
    if by_mail and (sms_match is None or not person.mobile):
        return _reissue_by_mail(person, institution, now)
    if sms_match is None:
        make_password(generate_password())
        return "no_match"
    if not person.mobile:
        make_password(generate_password())
        if institution and institution.email:
            # About the person, to the institution: anonymising the person scrubs it (privacy._outbox_of).
            queue_mail(to=institution.email, template="password_request_no_mobile", institution=institution,
                       person=person, context={"person_name": person.full_name,
                                               "customer_number": person.customer_number or "",
                                               "requested_email": data.email})
        return "no_mobile"
    if not _sms_allowed(person, now):
        make_password(generate_password())
        return "limited"

    User = get_user_model()
    user = User.objects.select_for_update().get(pk=person.user_id)
    new_email = normalize_email(data.email)
    old_email = normalize_email(user.email or user.get_username())
    if new_email != old_email and _address_taken(new_email, user=user):
        new_email = old_email  # the address belongs to someone else: the password is for the known one
    password = generate_password()
    _close_open_changes(user, LoginChange.Kind.SMS, now)
    LoginChange.objects.create(user=user, kind=LoginChange.Kind.SMS, new_email=new_email,
                               secret=make_password(password))
    if new_email != old_email and user.email:
        queue_mail(to=user.email, template="login_change_requested", language=person.language,
                   institution=institution, person=person,
                   context={"first_name": person.first_name, "new_email": new_email})
    queue_sms(to=person.mobile, template="password_issued", language=person.language, institution=institution,
              person=person, secret_keys=("password",), context={"password": password, "email": new_email})
    return "sms"


def _reissue_by_mail(person: Person, institution: Institution | None, now) -> str:
    if not _reissue_allowed(person, now):
        make_password(generate_password())
        return "limited"
    _close_open_changes(person.user, LoginChange.Kind.SMS, now)
    password = _issue_password(person)  # the one hash of this path
    email = _login_email(person.user)
    audit.record(audit.A.PERSON_CHANGED, actor=None, obj=person, person=person,
                 detail={"fields": ["password"], "via": "password_request_mail"})
    queue_mail(to=email, template="password_reissued", language=person.language, institution=institution,
               person=person, secret_keys=("password",),
               context={"first_name": person.first_name, "last_name": person.last_name, "email": email,
                        "password": password, "login_url": reverse("workpro:login"),
                        "password_request_url": reverse("workpro:password_request")})
    return "mail"


def password_request_redeem(*, email: str, password: str):
    """Log in with a password sent by "Neues Passwort anfordern": the proof of the phone.

    Called by the authentication backend (workpro_plugin.backends) on every login path. When
    `password` is the open SMS password requested for `email` (within 72 hours), the request is
    used up: `email` becomes the login address (the old one is told), the SMS password becomes
    the account's password, and the person must choose an own one next. Returns the user, or
    None when nothing matches (then nothing changes).
    """
    email = normalize_email(email or "")
    if not email or not password:
        return None
    now = timezone.now()
    candidates = LoginChange.objects.filter(kind=LoginChange.Kind.SMS, new_email=email, closed_at__isnull=True,
                                            created_at__gte=now - ISSUED_PASSWORD_VALIDITY).exclude(secret="")
    change = next((row for row in candidates if check_password(password, row.secret)), None)
    if change is None:
        return None
    with transaction.atomic():
        User = get_user_model()
        change = LoginChange.objects.select_for_update().filter(pk=change.pk, closed_at__isnull=True).first()
        if change is None:  # a parallel login used it first
            return None
        user = User.objects.select_for_update().get(pk=change.user_id)
        if not user.is_active or _is_staff_account(user):  # staff since the request: not by SMS
            return None
        if _address_taken(email, user=user):
            change.closed_at, change.secret = now, ""  # the address was taken meanwhile: refuse, once
            change.save(update_fields=["closed_at", "secret"])
            return None
        person = Person.objects.select_for_update().filter(user=user).first()
        old_email = user.email
        user.password = change.secret  # already a hash: the SMS password is now the account's
        fields = ["password"]
        if email != normalize_email(user.get_username()) or email != normalize_email(old_email or ""):
            fields += set_login(user, email)
        user.save(update_fields=fields)
        change.used_at = change.closed_at = now
        change.secret = ""
        change.save(update_fields=["used_at", "closed_at", "secret"])
        _close_open_changes(user, LoginChange.Kind.SMS, now)
        if person is not None:
            person.email = email
            person.must_set_password = True
            person.password_issued_at = change.created_at
            person.save(update_fields=["email", "must_set_password", "password_issued_at", "updated_at"])
        if "email" in fields:
            audit.record(audit.A.EMAIL_CHANGED, actor=user, obj=person or user, person=person,
                         detail={"via": "password_request"})
            if old_email and normalize_email(old_email) != email:
                queue_mail(to=old_email, template="email_changed", language=person.language if person else None,
                           institution=_institution_of(person, None) if person else None, person=person,
                           context={"first_name": person.first_name if person else user.first_name,
                                    "new_email": email})
    return user


# --- Meine Daten ---------------------------------------------------------------------------

EMAIL_CHANGE_MAX_AGE = timedelta(days=3)


@transaction.atomic
def account_update_contact(*, user, street: str, postcode: str, city: str, mobile: str, language: str,
                           date_of_birth: date | None) -> Person:
    """Address, mobile, birth date and language of the account holder; a new mobile number is announced by
    mail. Birth date and mobile number are what "Neues Passwort anfordern" checks."""
    person = Person.objects.select_for_update().get(user=user)
    old_mobile = person.mobile
    new = {"street": street, "postcode": postcode, "city": city, "mobile": mobile, "language": language,
           "date_of_birth": date_of_birth}
    changed = [field for field, value in new.items() if getattr(person, field) != value]
    for field, value in new.items():
        setattr(person, field, value)
    person.save(update_fields=[*new, "updated_at"])
    if changed:
        audit.record(audit.A.PERSON_CHANGED, actor=user, obj=person, person=person,
                     detail={"fields": changed, "via": "contact_data"})
    if mobile != old_mobile and user.email:
        queue_mail(to=user.email, template="mobile_changed", language=language, person=person,
                   context={"first_name": person.first_name, "old_mobile": old_mobile[-4:] if old_mobile else "",
                            "new_mobile": mobile[-4:] if mobile else ""})
    return person


@transaction.atomic
def account_complete_recovery_data(*, user, date_of_birth: date | None, mobile: str) -> Person | None:
    """Birth date and mobile number of the account holder, asked where an application needs them anyway.

    Only what is not yet on file is filled in: changing a stored one is a change of the way to a new
    password and needs the current password (Meine Daten). A first mobile number is announced by mail
    to the registered address, the channel the person already controls.
    """
    person = Person.objects.select_for_update().filter(user=user).first()
    if person is None:
        return None
    changed = []
    if date_of_birth and person.date_of_birth is None:
        person.date_of_birth = date_of_birth
        changed.append("date_of_birth")
    if mobile and not person.mobile:
        person.mobile = mobile
        changed.append("mobile")
    if not changed:
        return person
    person.save(update_fields=[*changed, "updated_at"])
    audit.record(audit.A.PERSON_CHANGED, actor=user, obj=person, person=person,
                 detail={"fields": changed, "via": "application"})
    if "mobile" in changed and user.email:
        queue_mail(to=user.email, template="mobile_changed", language=person.language, person=person,
                   context={"first_name": person.first_name, "old_mobile": "", "new_mobile": mobile[-4:]})
    return person


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def account_request_email_change(*, user, new_email: str) -> str:
    """Mail a confirmation link to the new address; nothing changes until its owner confirms it.

    The link works once, for three days, and only the newest one; returns its token.
    """
    now = timezone.now()
    new_email = normalize_email(new_email)
    person = Person.objects.filter(user=user).first()
    token = secrets.token_urlsafe(32)
    _close_open_changes(user, LoginChange.Kind.LINK, now)
    LoginChange.objects.create(user=user, kind=LoginChange.Kind.LINK, new_email=new_email, secret=_token_hash(token))
    queue_mail(to=new_email, template="email_change_confirm", language=person.language if person else None,
               person=person, secret_keys=("confirm_path",),
               context={"first_name": person.first_name if person else user.first_name,
                        "confirm_path": reverse("workpro:email_confirm", args=[token]), "new_email": new_email})
    return token


class EmailChangeError(ServiceError):
    """A mail address change refused; the message says why."""


def _link_change(*, user, token: str, lock: bool = False) -> LoginChange:
    """The open change behind a confirmation link of `user`, or EmailChangeError saying why not."""
    rows = LoginChange.objects.filter(kind=LoginChange.Kind.LINK, secret=_token_hash(token or ""))
    change = (rows.select_for_update() if lock else rows).first()
    if change is None:
        raise EmailChangeError(_("Der Bestätigungslink ist ungültig."))
    if change.user_id != user.pk:
        raise EmailChangeError(_("Der Bestätigungslink gehört zu einem anderen Konto."))
    if change.used_at is not None:
        raise EmailChangeError(_("Dieser Bestätigungslink wurde bereits verwendet: er gilt nur einmal. "
                                 "Ihre Mailadresse ist %(email)s.") % {"email": user.email})
    if change.closed_at is not None:
        raise EmailChangeError(_("Dieser Bestätigungslink gilt nicht mehr: Sie haben danach eine andere "
                                 "Mailadresse angegeben. Bitte nutzen Sie den neuesten Link."))
    if timezone.now() - change.created_at > EMAIL_CHANGE_MAX_AGE:
        raise EmailChangeError(_("Der Bestätigungslink ist abgelaufen. Bitte ändern Sie die Mailadresse erneut."))
    return change


def email_change_pending(*, user, token: str) -> str:
    """The address a confirmation link would make the login (for its confirmation page)."""
    return _link_change(user=user, token=token).new_email


@transaction.atomic
def account_confirm_email_change(*, user, token: str) -> str:
    """Switch the login to the confirmed address and tell the old one; the link is used up."""
    User = get_user_model()
    change = _link_change(user=user, token=token, lock=True)
    user = User.objects.select_for_update().get(pk=user.pk)
    new_email = change.new_email
    if _address_taken(new_email, user=user):
        raise EmailChangeError(_("Diese Mailadresse wird bereits für ein anderes Konto verwendet."))
    now = timezone.now()
    change.used_at = change.closed_at = now  # a second use is refused
    change.save(update_fields=["used_at", "closed_at"])
    old_email = user.email
    user.save(update_fields=set_login(user, new_email))
    person = Person.objects.filter(user=user).first()
    if person is not None:
        person.email = new_email
        person.save(update_fields=["email", "updated_at"])
    audit.record(audit.A.EMAIL_CHANGED, actor=user, obj=person or user, person=person,
                 detail={"via": "confirmation_link"})
    if old_email and old_email != new_email:
        queue_mail(to=old_email, template="email_changed", language=person.language if person else None,
                   person=person, context={"first_name": person.first_name if person else "", "new_email": new_email})
    return new_email


# --- Konto löschen -------------------------------------------------------------------------------

@transaction.atomic
def account_request_erasure(*, user) -> dict:
    """Konto löschen: the account holder (password confirmed by the form) asks for erasure.

    Open applications are withdrawn. For the holder and their wards without an own login, what no
    retention duty keeps is erased at once; a concluded contract is kept until its retention period
    ends (apply_retention then anonymises the person). While a contract runs, nothing changes: it
    has to be ended with the institution first. A confirmation mail says what went and what is kept,
    why and until when. Returns {"erased": [...], "kept": [Kept, ...]}.
    """
    today = timezone.localdate()
    people = privacy.erasure_subjects(user)
    if not people:
        raise privacy.ErasureRefused(_("Zu diesem Zugang gibt es keine Daten zu löschen."))
    for person in people:
        running = privacy.running_contract(person, today)
        if running is not None:
            raise privacy.ErasureRefused(_(
                "Der Vertrag „%(offer)s“ (%(number)s) läuft noch. Solange kann das Konto nicht gelöscht werden; "
                "bitte beenden Sie den Vertrag zuerst mit der Einrichtung.")
                % {"offer": running.offer.title, "number": running.contract_number or running.pk})
    own = Person.objects.select_for_update().get(pk=people[0].pk)
    address, language, first_name = user.email, own.language, own.first_name
    institution = (Enrollment.objects.filter(account_holder=user).select_related("institution")
                   .order_by("-created_at").first())
    institution = institution.institution if institution else None
    for enrollment in Enrollment.objects.filter(account_holder=user).exclude(status__in=[*CLOSED_STATUSES]):
        enrollment_withdraw(enrollment=enrollment, by=user, reason=_("Löschung des Kontos auf Wunsch"))
    kept_all: list[privacy.Kept] = []
    for person in people:
        person = Person.objects.select_for_update().get(pk=person.pk)
        kept = privacy.erasure_kept(person, today)
        if kept:
            keep = set(privacy.enrollments_of(person).filter(status=S.RATIFIZIERT).values_list("pk", flat=True))
            figures = privacy.erase_now(person, keep=keep, by=user)
            kept_all.extend(k for k in kept if k not in kept_all)
        else:
            figures = privacy.person_anonymise(person=person, by=user)
        kept_until = max((k.until for k in kept), default=today)
        PrivacyLog.objects.create(person=person, action=privacy.ACTION_ERASURE_REQUESTED, by=None,
                                  figures={**figures, "kept_until": kept_until.isoformat()})
    erased = [str(line) for line in privacy.ERASED_NOW]
    if address:
        # After the erasure, so the scrub above does not empty it; it names no data, only what happened.
        queue_mail(to=address, template="erasure_confirmed", language=language, institution=institution,
                   context={"first_name": first_name, "erased": erased,
                            "kept": [{"what": k.what, "why": k.why, "until": format_date(k.until)}
                                     for k in kept_all]})
    return {"erased": erased, "kept": kept_all}



# --- DSGVO: requested login changes ---------------------------------------------------------

def login_changes_export(person: Person) -> list[dict]:
    """The person's requested address changes (by link or by SMS), without their secrets."""
    if person.user_id is None:
        return []
    return [{"kind": row.kind, "new_email": row.new_email, "requested_at": row.created_at,
             "used_at": row.used_at, "closed_at": row.closed_at}
            for row in LoginChange.objects.filter(user_id=person.user_id).order_by("created_at", "pk")]


def login_changes_erase(person: Person) -> int:
    if person.user_id is None:
        return 0
    return LoginChange.objects.filter(user_id=person.user_id).delete()[0]


def login_changes_purge(*, now=None) -> int:
    """Requested login changes are worth nothing after their proof expired (3 days at most): the
    rows, with the address someone typed, go after WORKPRO_LOGIN_CHANGE_RETENTION_DAYS (30)."""
    days = int(conf.get("LOGIN_CHANGE_RETENTION_DAYS"))
    cutoff = (now or timezone.now()) - timedelta(days=days)
    return LoginChange.objects.filter(created_at__lt=cutoff).delete()[0]


privacy.register_exporter("login_changes", login_changes_export)
privacy.register_eraser("login_changes", login_changes_erase)
privacy.register_retention("login_changes", login_changes_purge)
