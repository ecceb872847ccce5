from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

ISSUED_PASSWORD_VALIDITY = timedelta(hours=72)


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
    language = models.CharField(_("Sprache"), max_length=10, choices=settings.LANGUAGES, default="de")
    password_issued_at = models.DateTimeField(
        _("Passwort zugesandt am"), null=True, blank=True,
        help_text=_("Zugesandte Passwörter gelten 72 Stunden und nur zum Festlegen eines eigenen Passworts."),
    )
    must_set_password = models.BooleanField(_("muss eigenes Passwort festlegen"), default=False)
    created_at = models.DateTimeField(_("angelegt am"), auto_now_add=True)
    updated_at = models.DateTimeField(_("geändert am"), auto_now=True)

    class Meta:
        verbose_name = _("Person")
        verbose_name_plural = _("Personen")
        ordering = ["last_name", "first_name"]
        indexes = [models.Index(fields=["last_name", "first_name", "date_of_birth"])]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def issued_password_expired(self, now=None) -> bool:
        """An issued password is good for 72 hours, and only while not replaced."""
        if not self.must_set_password or self.password_issued_at is None:
            return False
        return (now or timezone.now()) - self.password_issued_at > ISSUED_PASSWORD_VALIDITY
