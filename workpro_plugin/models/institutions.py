from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.models import Site

from .enrollment import private_storage


def user_group_ids(user) -> set[int]:
    """The user's group ids, read once per user object (a request), like Django's permission cache."""
    cached = getattr(user, "_workpro_group_ids", None)
    if cached is None:
        cached = set(user.groups.values_list("pk", flat=True))
        user._workpro_group_ids = cached
    return cached


def user_operator_ids(user) -> set[int]:
    """Ids of the operators whose group ("Träger …") the user belongs to, read once per user object."""
    cached = getattr(user, "_workpro_operator_ids", None)
    if cached is None:
        groups = user_group_ids(user)
        cached = set(Operator.objects.filter(lead_group__in=groups).values_list("pk", flat=True)) if groups else set()
        user._workpro_operator_ids = cached
    return cached


def validate_number_format(value: str) -> None:
    """A number format must contain {number} and format with example values."""
    if "{number" not in value:
        raise ValidationError(_("Das Format muss den Platzhalter {number} enthalten."))
    try:
        value.format(number=42, year=2026, prefix="KITA")
    except (KeyError, IndexError, ValueError) as exc:
        raise ValidationError(_("Ungültiges Format: %(error)s") % {"error": exc}) from exc


class Operator(models.Model):
    """The organisation that runs the institutions (e.g. "ASG GmbH").

    Customer numbers are unique per operator: a person keeps theirs for every
    contract at any of the operator's institutions.
    """

    name = models.CharField(_("Name"), max_length=200, unique=True)
    street = models.CharField(_("Straße und Hausnummer"), max_length=200, blank=True)
    postcode = models.CharField(_("PLZ"), max_length=10, blank=True)
    city = models.CharField(_("Ort"), max_length=100, blank=True)
    phone = models.CharField(_("Telefon"), max_length=40, blank=True)
    email = models.EmailField(_("E-Mail"), blank=True)
    website = models.URLField(_("Website"), blank=True)
    customer_number_format = models.CharField(
        _("Format der Kundennummer"), max_length=60, default="K-{number:06d}",
        help_text=_("Platzhalter: {number}. Beispiel: K-{number:06d} ergibt K-000042."),
        validators=[validate_number_format],
    )
    lead_group = models.OneToOneField(
        Group,
        verbose_name=_("Gruppe Träger"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="workpro_operator",
        help_text=_("Mitglieder dieser Gruppe sind Leitung aller Einrichtungen dieses Trägers."),
    )

    panels = [
        FieldPanel("name"),
        MultiFieldPanel(
            [FieldPanel("street"), FieldPanel("postcode"), FieldPanel("city")], heading=_("Anschrift")
        ),
        FieldPanel("phone"),
        FieldPanel("email"),
        FieldPanel("website"),
        FieldPanel("customer_number_format"),
        FieldPanel("lead_group"),
    ]

    class Meta:
        verbose_name = _("Träger")
        verbose_name_plural = _("Träger")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class InstitutionQuerySet(models.QuerySet):
    def for_site(self, site) -> "Institution | None":
        """The institution a Wagtail site belongs to, with what headers and PDFs show, or None."""
        if site is None:
            return None
        return self.select_related("operator", "logo", "site").filter(site=site).first()


class Institution(models.Model):
    """A school, KiTa, training centre or dormitory: one Wagtail Site each."""

    class Kind(models.TextChoices):
        SCHULE = "schule", _("Schule")
        KITA = "kita", _("KiTa")
        BERUFSBILDUNGSZENTRUM = "bbz", _("Berufsbildungszentrum")
        WOHNHEIM = "wohnheim", _("Wohnheim")
        SONSTIGE = "sonstige", _("Sonstige Einrichtung")

    operator = models.ForeignKey(
        Operator, verbose_name=_("Träger"), on_delete=models.PROTECT, related_name="institutions"
    )
    site = models.OneToOneField(
        Site,
        verbose_name=_("Website"),
        on_delete=models.PROTECT,
        related_name="workpro_institution",
        help_text=_("Die Wagtail-Website (Homepage) dieser Einrichtung."),
    )
    name = models.CharField(_("Name"), max_length=200)
    slug = models.SlugField(
        _("Kürzel"),
        max_length=40,
        unique=True,
        help_text=_("Kurzname für Vertragsnummern und Dateinamen, z. B. „kita-sonnenschein“."),
    )
    kind = models.CharField(_("Art"), max_length=20, choices=Kind.choices, default=Kind.SONSTIGE)
    street = models.CharField(_("Straße und Hausnummer"), max_length=200, blank=True)
    postcode = models.CharField(_("PLZ"), max_length=10, blank=True)
    city = models.CharField(_("Ort"), max_length=100, blank=True)
    phone = models.CharField(_("Telefon"), max_length=40, blank=True)
    email = models.EmailField(_("E-Mail"), blank=True)
    contact_person = models.CharField(_("Ansprechpartner"), max_length=200, blank=True)
    logo = models.ForeignKey(
        "wagtailimages.Image",
        verbose_name=_("Logo"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    confirm_move_up = models.BooleanField(
        _("Nachrücken erst nach Bestätigung"), default=False,
        help_text=_("Wird ein Platz frei, schlägt WorkPro das nächste Kind der Warteliste vor; ein Mitarbeiter "
                    "bietet den Platz mit „Platz anbieten“ an. Sonst geschieht das automatisch."))
    interview_first = models.BooleanField(
        _("Vor der Aufnahme erst ein Gespräch"), default=False,
        help_text=_("Ein in der Platzvergabe oder beim Nachrücken vergebener Platz wird vorgemerkt; die Anmeldung "
                    "bleibt „Bewerber“ mit dem nächsten Schritt „Einladung ausstehend“, bis ein Mitarbeiter zum "
                    "Gespräch einlädt („Einladen“) und danach entscheidet. Sonst wird das Kind gleich Kandidat."))
    contract_number_prefix = models.CharField(
        _("Präfix der Vertragsnummern"), max_length=12, blank=True, help_text=_("z. B. KITA")
    )
    contract_number_format = models.CharField(
        _("Format der Vertragsnummer"), max_length=60, default="{prefix}-{year}-{number:05d}",
        help_text=_("Platzhalter: {prefix}, {year}, {number}. Beispiel: KITA-2026-00042."),
        validators=[validate_number_format],
    )
    staff_group = models.OneToOneField(
        Group,
        verbose_name=_("Gruppe Sachbearbeitung"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="workpro_institution",
        help_text=_("Mitglieder dieser Gruppe bearbeiten die Anmeldungen dieser Einrichtung."),
    )
    lead_group = models.OneToOneField(
        Group,
        verbose_name=_("Gruppe Leitung"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="workpro_led_institution",
        help_text=_("Mitglieder dieser Gruppe unterschreiben Angebote und ratifizieren Verträge."),
    )
    # The key that signs Angebote and ratified contracts. Its password is never stored: it comes from
    # the environment (services/signatures.py says which variable).
    signing_certificate = models.FileField(
        _("Signaturzertifikat (PKCS#12)"),
        upload_to="signing/",
        storage=private_storage,
        blank=True,
        max_length=255,
        help_text=_("Datei .p12/.pfx mit Schlüssel und Zertifikat der Einrichtung. Das Passwort wird nicht "
                    "hier gespeichert, sondern in der Umgebungsvariablen WORKPRO_SIGNING_PASSWORD_<KÜRZEL> "
                    "des Servers hinterlegt."),
    )

    panels = [
        FieldPanel("operator"),
        FieldPanel("site"),
        FieldPanel("name"),
        FieldPanel("slug"),
        FieldPanel("kind"),
        MultiFieldPanel(
            [FieldPanel("street"), FieldPanel("postcode"), FieldPanel("city")], heading=_("Anschrift")
        ),
        FieldPanel("phone"),
        FieldPanel("email"),
        FieldPanel("contact_person"),
        FieldPanel("logo"),
        FieldPanel("staff_group"),
        FieldPanel("lead_group"),
        FieldPanel("signing_certificate"),
        MultiFieldPanel([FieldPanel("contract_number_prefix"), FieldPanel("contract_number_format")],
                        heading=_("Vertragsnummern")),
        FieldPanel("confirm_move_up"),
        FieldPanel("interview_first"),
    ]

    objects = InstitutionQuerySet.as_manager()

    class Meta:
        verbose_name = _("Einrichtung")
        verbose_name_plural = _("Einrichtungen")
        ordering = ["name"]
        permissions = [("edit_texts", _("Mail-/SMS-Texte und Vertragsbedingungen der Einrichtung bearbeiten"))]

    def __str__(self) -> str:
        return self.name

    @property
    def address_lines(self) -> list[str]:
        return [line for line in (self.street, f"{self.postcode} {self.city}".strip()) if line]

    def format_contract_number(self, *, year: int, number: int) -> str:
        prefix = self.contract_number_prefix or self.slug.upper()
        return self.contract_number_format.format(prefix=prefix, year=year, number=number)

    def lead_group_ids(self) -> list[int]:
        """Leitung: the institution's own group and its operator's ("Träger …"), whose members lead
        every institution of the operator."""
        return [pk for pk in (self.lead_group_id, self.operator.lead_group_id) if pk is not None]

    def staff_group_ids(self) -> list[int]:
        return [pk for pk in (self.staff_group_id, *self.lead_group_ids()) if pk is not None]

    def is_staff_member(self, user: settings.AUTH_USER_MODEL) -> bool:
        """Staff of an institution are the members of its Sachbearbeitung or Leitung group, of its
        operator's group (or superusers).

        Membership scopes *which* enrollments a user sees; Django permissions on the
        groups (view, process, sign) decide *what* they may do with them.
        """
        if user is None or not user.is_authenticated or not user.is_active:
            return False
        if user.is_superuser:
            return True
        own = [pk for pk in (self.staff_group_id, self.lead_group_id) if pk is not None]
        return not user_group_ids(user).isdisjoint(own) or self.operator_id in user_operator_ids(user)

    def is_lead(self, user) -> bool:
        """Leitung of this institution: its Leitung group or its operator's group (superusers too)."""
        if user is None or not user.is_authenticated or not user.is_active:
            return False
        if user.is_superuser:
            return True
        return ((self.lead_group_id is not None and self.lead_group_id in user_group_ids(user))
                or self.operator_id in user_operator_ids(user))

    def staff_can(self, user, permission: str) -> bool:
        """Staff of this institution holding `permission` (e.g. "process_enrollment")."""
        return self.is_staff_member(user) and user.has_perm(f"workpro_plugin.{permission}")
