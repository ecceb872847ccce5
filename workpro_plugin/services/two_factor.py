"""Staff two-factor authentication: enrolment by a mailed one-time link, recovery codes, lock-outs
that end.

- Enrolment: knowing a staff password is not enough to register the authenticator app. A link
  goes to the account's own mail address; only a session logged in as that user, holding the
  link, sees the secret and confirms the device. The link works once and expires
  (WORKPRO_2FA_LINK_HOURS); a new request voids older links.
- Recovery codes: a django-otp static device with RECOVERY_CODES single-use codes, created at
  enrolment and renewable while verified. The codes are shown once, right after they are made.
- Lock-outs: django-otp doubles the wait after each wrong code without limit (a week after 20);
  here the wait is capped at WORKPRO_2FA_LOCKOUT_MAX_SECONDS after the last failure.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from .. import conf
from ..models import TwoFactorEnrolment
from . import audit
from .errors import ServiceError
from .notify import queue_mail

DEVICE_NAME = "WorkPro"
RECOVERY_DEVICE_NAME = "Wiederherstellungscodes"
RECOVERY_CODES = 10
# Links one account may be sent per hour: enough for a lost mail, not enough to flood a mailbox.
LINKS_PER_HOUR = 3
KEEP_OLD_LINKS = timedelta(days=30)


class TwoFactorError(ServiceError):
    """A refusal with a German message for the user."""


def link_hours() -> int:
    return int(conf.get("2FA_LINK_HOURS"))


def lockout_cap() -> timedelta:
    return timedelta(seconds=int(conf.get("2FA_LOCKOUT_MAX_SECONDS")))


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _language(user) -> str:
    person = getattr(user, "workpro_person", None)
    return person.language if person is not None else settings.LANGUAGE_CODE


def has_totp(user) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


# --- enrolment link ------------------------------------------------------------------------------

def enrolment_request(*, user, by=None) -> TwoFactorEnrolment:
    """Mail a one-time enrolment link to the user's own address (asked by the user, a Leitung or a
    superuser: ``by``). Older unused links stop working."""
    with transaction.atomic():
        locked = get_user_model().objects.select_for_update().get(pk=user.pk)
        if not locked.email:
            raise TwoFactorError(_("Ihr Konto hat keine Mailadresse. Bitte wenden Sie sich an Ihre Leitung oder "
                                   "einen Administrator."))
        if has_totp(locked):
            raise TwoFactorError(_("Die Zwei-Faktor-Authentifizierung ist für dieses Konto bereits eingerichtet."))
        now = timezone.now()
        recent = TwoFactorEnrolment.objects.filter(user=locked, created_at__gte=now - timedelta(hours=1)).count()
        if recent >= LINKS_PER_HOUR:
            raise TwoFactorError(_("Es wurden in der letzten Stunde schon mehrere Links verschickt. Bitte sehen Sie "
                                   "in Ihrem Postfach nach oder versuchen Sie es später erneut."))
        TwoFactorEnrolment.objects.filter(user=locked, used_at__isnull=True, expires_at__gt=now).update(expires_at=now)
        # Rows of links long over are no use to anyone (the audit log keeps that they were sent).
        TwoFactorEnrolment.objects.filter(user=locked, expires_at__lt=now - KEEP_OLD_LINKS).delete()
        token = secrets.token_urlsafe(32)
        enrolment = TwoFactorEnrolment.objects.create(
            user=locked, token_hash=_hash(token), requested_by=by if by is not None and by.is_authenticated else None,
            created_at=now, expires_at=now + timedelta(hours=link_hours()))
        audit.record(audit.A.TWO_FACTOR_LINK_SENT, actor=by, obj=enrolment,
                     actor_label="" if by is not None else "manage.py",
                     detail={"user": locked.pk, "by_other": by is None or by.pk != locked.pk})
        queue_mail(to=locked.email, template="two_factor_enrolment", language=_language(locked),
                   person=getattr(locked, "workpro_person", None), secret_keys=("link_path",),
                   context={"first_name": locked.first_name, "hours": link_hours(),
                            "link_path": reverse("workpro_admin:two_factor_link", args=[token])})
    return enrolment


def _find(token: str, *, lock: bool = False) -> TwoFactorEnrolment | None:
    if not isinstance(token, str) or not 20 <= len(token) <= 100:
        return None
    rows = TwoFactorEnrolment.objects.select_for_update() if lock else TwoFactorEnrolment.objects
    return rows.filter(token_hash=_hash(token)).first()


def enrolment_check(*, user, token: str, lock: bool = False) -> TwoFactorEnrolment:
    """The link's enrolment if ``user`` may use it now; else TwoFactorError."""
    enrolment = _find(token, lock=lock)
    if enrolment is None:
        raise TwoFactorError(_("Der Einrichtungslink ist ungültig."))
    if enrolment.user_id != user.pk:
        raise TwoFactorError(_("Der Einrichtungslink gehört zu einem anderen Konto. Bitte melden Sie sich mit dem "
                               "Konto an, an dessen Mailadresse er geschickt wurde."))
    if enrolment.used_at is not None:
        raise TwoFactorError(_("Der Einrichtungslink wurde bereits verwendet. Bitte fordern Sie einen neuen an."))
    if enrolment.expires_at <= timezone.now():
        raise TwoFactorError(_("Der Einrichtungslink ist abgelaufen. Bitte fordern Sie einen neuen an."))
    if has_totp(user):
        raise TwoFactorError(_("Die Zwei-Faktor-Authentifizierung ist für dieses Konto bereits eingerichtet."))
    return enrolment


@transaction.atomic
def enrolment_open(*, user, token: str) -> TwoFactorEnrolment:
    """Use up the link for this user's session: a fresh secret replaces any device begun earlier."""
    enrolment = enrolment_check(user=user, token=token, lock=True)
    enrolment.used_at = timezone.now()
    enrolment.save(update_fields=["used_at"])
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return enrolment


def enrolment_pending(*, user, token) -> TwoFactorEnrolment | None:
    """The enrolment whose link this session opened (the session keeps the link's token, which no
    one without the mail knows), while it may still be completed."""
    enrolment = _find(token)
    if (enrolment is None or enrolment.user_id != user.pk or enrolment.used_at is None
            or enrolment.completed_at is not None or enrolment.expires_at <= timezone.now()):
        return None
    return enrolment


def pending_device(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()


@dataclass
class Enrolled:
    device: TOTPDevice
    recovery_codes: list[str]


@transaction.atomic
def enrolment_complete(*, user, enrolment: TwoFactorEnrolment, device: TOTPDevice) -> Enrolled:
    """Confirm the device (its first code was checked by the caller) and create the recovery codes."""
    locked = TwoFactorEnrolment.objects.select_for_update().get(pk=enrolment.pk)
    if locked.completed_at is not None or locked.user_id != user.pk or device.user_id != user.pk:
        raise TwoFactorError(_("Der Einrichtungslink wurde bereits verwendet. Bitte fordern Sie einen neuen an."))
    locked.completed_at = timezone.now()
    locked.save(update_fields=["completed_at"])
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    audit.record(audit.A.TWO_FACTOR_ENABLED, actor=user, obj=device, detail={"enrolment": locked.pk})
    return Enrolled(device=device, recovery_codes=recovery_codes_create(user=user))


# --- recovery codes -----------------------------------------------------------------------------

def format_code(token: str) -> str:
    return f"{token[:4]}-{token[4:]}"


def normalize_code(value: str) -> str:
    return "".join(ch for ch in value.lower() if ch not in " -\t")


def recovery_device(user) -> StaticDevice | None:
    return StaticDevice.objects.filter(user=user, confirmed=True).order_by("-pk").first()


def recovery_codes_left(user) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


@transaction.atomic
def recovery_codes_create(*, user) -> list[str]:
    """A new set of codes; the old set stops working. Returns the codes to show once."""
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_DEVICE_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    audit.record(audit.A.TWO_FACTOR_RECOVERY_CREATED, actor=user, obj=device, detail={"codes": len(codes)})
    return [format_code(code) for code in codes]


@transaction.atomic
def devices_remove(*, user, by=None, via: str) -> int:
    """Both factors go together (switched off by the user, or a lost phone reset by an administrator:
    ``by`` None). Returns how many app devices went."""
    get_user_model().objects.select_for_update().filter(pk=user.pk).first()
    deleted = TOTPDevice.objects.filter(user=user).delete()[0]
    StaticDevice.objects.filter(user=user).delete()
    TwoFactorEnrolment.objects.filter(user=user, completed_at__isnull=True).update(expires_at=timezone.now())
    audit.record(audit.A.TWO_FACTOR_DISABLED, actor=by, actor_label="" if by is not None else user.get_username(),
                 object_type="auth.user", object_id=str(user.pk), detail={"via": via, "devices": deleted})
    return deleted


# --- lock-outs that end -------------------------------------------------------------------------

def locked_until(device, *, now: datetime | None = None) -> datetime | None:
    """When ``device`` takes the next code, or None if now.

    django-otp waits factor·2^(n−1) seconds after the n-th wrong code in a row, without limit.
    The wait here ends at the latest WORKPRO_2FA_LOCKOUT_MAX_SECONDS after the last wrong code:
    once that has passed, django-otp's own lock is lifted (its failure count stays, so the next
    wrong code waits the full cap again, and an attacker gets one guess per cap).
    """
    allowed, info = device.verify_is_allowed()
    if allowed:
        return None
    now = now or timezone.now()
    until = (info or {}).get("locked_until")
    last = device.throttling_failure_timestamp
    if last is not None:
        capped = last + lockout_cap()
        until = capped if until is None else min(until, capped)
    if until is None or until > now:
        return until
    type(device).objects.filter(pk=device.pk, throttling_failure_timestamp=last).update(
        throttling_failure_timestamp=None)
    device.throttling_failure_timestamp = None
    return None


def verify(device, token: str) -> tuple[bool, datetime | None]:
    """(code accepted, locked until): checks the lock with its cap first."""
    until = locked_until(device)
    if until is not None:
        return False, until
    if device.verify_token(token):
        return True, None
    return False, None


def recovery_used(*, user, device: StaticDevice) -> int:
    """Log the use of a recovery code; returns how many are left."""
    left = recovery_codes_left(user)
    audit.record(audit.A.TWO_FACTOR_RECOVERY_USED, actor=user, obj=device, detail={"left": left})
    return left
