from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..lib import people
from ..lib.formats import format_datetime

ISSUED_PASSWORD_VALIDITY = timedelta(hours=72)


def language_choices():
    """The host's LANGUAGES, read when a form or a check asks: a callable is written into the
    migrations by reference, so a host with other languages needs no migration of its own.
    Named by migration 0015: keep this dotted path importable."""
    return settings.LANGUAGES


class Person(models.Model):
    """A natural person: an account holder, a participant, a guardian, or all of these.

    Account holders have a `user`; a child enrolled by a guardian may have none.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("Benutzerkonto"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="workpro_person",
    )
    last_name = models.CharField(_("Name"), max_length=150)
    first_name = models.CharField(_("Vorname"), max_length=150)
    date_of_birth = models.DateField(_("Geburtsdatum"), null=True, blank=True)
    email = models.EmailField(_("Mailadresse"), blank=True, db_index=True)
    mobile = models.CharField(_("Handynummer"), max_length=20, blank=True, db_index=True,
                              help_text=_("Für SMS, z. B. mit einem neuen Passwort."))
    street = models.CharField(_("Straße und Hausnummer"), max_length=200, blank=True)
    postcode = models.CharField(_("PLZ"), max_length=10, blank=True)
    city = models.CharField(_("Ort"), max_length=100, blank=True)
    customer_number = models.CharField(_("Kundennummer"), max_length=30, null=True, blank=True, unique=True)
    language = models.CharField(_("Sprache"), max_length=10, choices=language_choices, default="de")
    password_issued_at = models.DateTimeField(
        _("Passwort zugesandt am"), null=True, blank=True,
        help_text=_("Zugesandte Passwörter gelten 72 Stunden und nur zum Festlegen eines eigenen Passworts."),
    )
    must_set_password = models.BooleanField(_("muss eigenes Passwort festlegen"), default=False)
    coming_of_age_notice_at = models.DateTimeField(
        _("Hinweis auf Volljährigkeit gesendet am"), null=True, blank=True,
        help_text=_("14 Tage vor dem 18. Geburtstag an Teilnehmer und PSB1."))
    came_of_age_at = models.DateTimeField(
        _("volljährig übergeben am"), null=True, blank=True,
        help_text=_("Ab dem 18. Geburtstag ist der Teilnehmer selbst Ansprechpartner."))
    created_at = models.DateTimeField(_("angelegt am"), auto_now_add=True)
    updated_at = models.DateTimeField(_("geändert am"), auto_now=True)
    anonymised_at = models.DateTimeField(
        _("anonymisiert am"), null=True, blank=True,
        help_text=_("Nach Ablauf der Aufbewahrungsfrist wurden die persönlichen Angaben gelöscht."),
    )
    erasure_requested_at = models.DateTimeField(
        _("Löschung verlangt am"), null=True, blank=True,
        help_text=_("„Konto löschen“: gelöscht ist, was keine Aufbewahrungspflicht hält; der Rest geht mit "
                    "Ablauf seiner Frist."),
    )

    class Meta:
        verbose_name = _("Person")
        verbose_name_plural = _("Personen")
        ordering = ["last_name", "first_name"]
        indexes = [models.Index(fields=["last_name", "first_name", "date_of_birth"])]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return people.full_name(self.first_name, self.last_name)

    def age_on(self, day) -> int | None:
        return people.age_on(self.date_of_birth, day)

    def eighteenth_birthday(self):
        """The day the person comes of age; someone born on 29 February comes of age on 1 March."""
        born = self.date_of_birth
        if born is None:
            return None
        try:
            return born.replace(year=born.year + 18)
        except ValueError:
            return born.replace(year=born.year + 18, month=3, day=1)

    @property
    def is_minor(self) -> bool:
        age = self.age_on(timezone.localdate())
        return age is not None and age < 18

    def primary_guardian(self):
        link = self.guardianships.filter(is_primary=True).select_related("guardian__user").first()
        return link.guardian if link else None

    def issued_password_expired(self, now=None) -> bool:
        """An issued password is good for 72 hours, and only while not replaced."""
        if not self.must_set_password or self.password_issued_at is None:
            return False
        return (now or timezone.now()) - self.password_issued_at > ISSUED_PASSWORD_VALIDITY


class Guardian(models.Model):
    """Custody of a minor participant; exactly one guardian is PSB1, the sole contact."""

    class Relation(models.TextChoices):
        MUTTER = "mutter", _("Mutter")
        VATER = "vater", _("Vater")
        VORMUND = "vormund", _("Vormund")
        SONSTIGE = "sonstige", _("Sonstige sorgeberechtigte Person")

    participant = models.ForeignKey(Person, verbose_name=_("Teilnehmer"), on_delete=models.CASCADE,
                                    related_name="guardianships")
    guardian = models.ForeignKey(Person, verbose_name=_("Personensorgeberechtigter"), on_delete=models.CASCADE,
                                 related_name="wards")
    relation = models.CharField(_("Beziehung"), max_length=20, choices=Relation.choices, default=Relation.SONSTIGE)
    is_primary = models.BooleanField(_("PSB1 (alleiniger Ansprechpartner)"), default=False)
    access_ends_on = models.DateField(
        _("Zugang endet am"), null=True, blank=True,
        help_text=_("Gesetzt, wenn der Teilnehmer volljährig wird: 30 Tage danach endet der Zugang."),
    )
    created_at = models.DateTimeField(_("angelegt am"), auto_now_add=True)

    class Meta:
        verbose_name = _("Personensorgeberechtigter")
        verbose_name_plural = _("Personensorgeberechtigte")
        constraints = [
            models.UniqueConstraint(fields=["participant", "guardian"], name="workpro_unique_guardian"),
            models.UniqueConstraint(fields=["participant"], condition=models.Q(is_primary=True),
                                    name="workpro_one_psb1_per_participant"),
            models.CheckConstraint(condition=~models.Q(participant=models.F("guardian")),
                                   name="workpro_guardian_not_self"),
        ]

    def has_access_on(self, day) -> bool:
        return self.access_ends_on is None or day <= self.access_ends_on

    def __str__(self) -> str:
        label = "PSB1" if self.is_primary else self.get_relation_display()
        return f"{self.guardian} ({label}) für {self.participant}"


class NumberSequence(models.Model):
    """A gap-free counter (customer numbers per operator, contract numbers per institution and year).

    Incremented under a row lock inside the transaction that uses the number, so a
    rolled-back enrollment gives its number back and two enrollments never share one.
    """

    key = models.CharField(max_length=100, unique=True)
    last_value = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("Nummernkreis")
        verbose_name_plural = _("Nummernkreise")

    def __str__(self) -> str:
        return f"{self.key}: {self.last_value}"


class LoginChange(models.Model):
    """A requested change of the login (address and/or password) awaiting its proof.

    Nothing about the account changes when it is requested: the old address and password keep
    working. A ``link`` change (Meine Daten → new address) takes effect when the confirmation link
    mailed to the new address is confirmed by its owner; an ``sms`` change ("Neues Passwort
    anfordern") when the password sent by SMS to the stored mobile number is used to log in with
    the requested address. Each proof works once; a newer request of the same kind replaces an
    open one. ``secret`` holds a hash only (of the link token or of the SMS password) and is
    blanked as soon as the row is closed.
    """

    class Kind(models.TextChoices):
        LINK = "link", _("Bestätigungslink")
        SMS = "sms", _("Passwort per SMS")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("Benutzerkonto"), on_delete=models.CASCADE,
                             related_name="workpro_login_changes")
    kind = models.CharField(_("Art"), max_length=10, choices=Kind.choices)
    new_email = models.EmailField(_("neue Mailadresse"))
    secret = models.CharField(max_length=128, blank=True, editable=False)
    created_at = models.DateTimeField(_("angefordert am"), auto_now_add=True, db_index=True)
    used_at = models.DateTimeField(_("verwendet am"), null=True, blank=True)
    closed_at = models.DateTimeField(_("erledigt am"), null=True, blank=True)

    class Meta:
        verbose_name = _("Änderung der Anmeldedaten")
        verbose_name_plural = _("Änderungen der Anmeldedaten")
        indexes = [models.Index(fields=["kind", "new_email"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {format_datetime(self.created_at)}"

    @property
    def is_open(self) -> bool:
        return self.closed_at is None
