from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .. import conf


class OutboxMessage(models.Model):
    """A mail or SMS to send: written with the change that causes it, sent after commit.

    The row, not the django-q2 task, is the source of truth: a sweep re-queues rows
    that are still unsent, and delivery claims a row atomically so it is sent once.
    """

    class Channel(models.TextChoices):
        MAIL = "mail", _("Mail")
        SMS = "sms", _("SMS")

    class State(models.TextChoices):
        PENDING = "pending", _("wartet")
        # Its attached documents are still being rendered; the render task releases it (→ pending).
        WAITING = "waiting", _("wartet auf Dokument")
        SENDING = "sending", _("wird gesendet")
        SENT = "sent", _("gesendet")
        FAILED = "failed", _("fehlgeschlagen")

    channel = models.CharField(_("Kanal"), max_length=10, choices=Channel.choices)
    recipient = models.CharField(_("Empfänger"), max_length=254)
    template = models.CharField(_("Vorlage"), max_length=100)
    context = models.JSONField(_("Daten"), default=dict, blank=True)
    secret_keys = models.JSONField(default=list, blank=True,
                                   help_text="Context keys removed once the message is sent.")
    language = models.CharField(_("Sprache"), max_length=10, default="de")
    institution = models.ForeignKey(
        "workpro_plugin.Institution", verbose_name=_("Einrichtung"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    person = models.ForeignKey(
        "workpro_plugin.Person", verbose_name=_("Person"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="outbox_messages",
    )
    state = models.CharField(_("Status"), max_length=10, choices=State.choices, default=State.PENDING,
                             db_index=True)
    attempts = models.PositiveSmallIntegerField(_("Versuche"), default=0)
    last_error = models.TextField(_("letzter Fehler"), blank=True)
    next_attempt_at = models.DateTimeField(_("nächster Versuch"), default=timezone.now, db_index=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(_("angelegt am"), auto_now_add=True)
    sent_at = models.DateTimeField(_("gesendet am"), null=True, blank=True)
    subject = models.CharField(_("Betreff"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("Ausgangsnachricht")
        verbose_name_plural = _("Ausgangsnachrichten")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["channel", "person", "created_at"])]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.template} → {self.recipient} ({self.get_state_display()})"

    @property
    def max_attempts(self) -> int:
        return conf.get("OUTBOX_MAX_ATTEMPTS")
