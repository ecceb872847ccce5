"""An institution's own texts: mail and SMS texts per event and language, and its contract terms.

Both replace the plugin's defaults only where an editor wrote something; an empty field means
"the plugin's text" (mail texts) or "nothing printed" (terms). The texts are checked when saved
(services.texts), so sending never depends on an editor's typing.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.fields import RichTextField

from ..lib.mail_texts import LANGUAGES

TERM_FEATURES = ["bold", "italic", "h3", "h4", "ol", "ul", "link"]
# The three texts of a contract, in print order: field name, label.
TERM_FIELDS = (
    ("contract", _("Vertragsbedingungen")),
    ("house_rules", _("Hausordnung")),
    ("fee_rules", _("Gebührenordnung")),
)


class MailText(models.Model):
    institution = models.ForeignKey("workpro_plugin.Institution", verbose_name=_("Einrichtung"),
                                    on_delete=models.CASCADE, related_name="mail_texts")
    event = models.CharField(_("Anlass"), max_length=40)
    language = models.CharField(_("Sprache"), max_length=5, choices=LANGUAGES)
    subject = models.CharField(_("Betreff"), max_length=200, blank=True)
    body = models.TextField(_("Text"), max_length=5000, blank=True)
    sms = models.CharField(_("SMS-Text"), max_length=320, blank=True)
    updated_at = models.DateTimeField(_("geändert am"), auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("geändert von"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("Mail- oder SMS-Text")
        verbose_name_plural = _("Mail- und SMS-Texte")
        constraints = [models.UniqueConstraint(fields=["institution", "event", "language"],
                                               name="workpro_mailtext_unique")]

    def __str__(self) -> str:
        return f"{self.institution} · {self.event} · {self.language}"


class ContractTerms(models.Model):
    institution = models.OneToOneField("workpro_plugin.Institution", verbose_name=_("Einrichtung"),
                                       on_delete=models.CASCADE, related_name="contract_terms")
    contract = RichTextField(_("Vertragsbedingungen"), blank=True, features=TERM_FEATURES)
    house_rules = RichTextField(_("Hausordnung"), blank=True, features=TERM_FEATURES)
    fee_rules = RichTextField(_("Gebührenordnung"), blank=True, features=TERM_FEATURES,
                              help_text=_("Text zur Gebührenordnung (die Beträge stehen in der Gebührenordnung "
                                          "des Angebots)."))
    updated_at = models.DateTimeField(_("geändert am"), auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("geändert von"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("Vertragsbedingungen")
        verbose_name_plural = _("Vertragsbedingungen")

    def __str__(self) -> str:
        return str(self.institution)
