"""Chat: conversations about an offer (before enrollment) or about an enrollment.

Who may read and write is decided in `selectors.chat`; every change goes through
`services/chat.py`. Messages are never deleted: authors may correct them for a few
minutes, staff may hide abusive ones (recorded in the conversation's events).
Textbausteine (CannedReply) are an institution's prepared answers for staff replies.
"""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel

from .offers import OfferPage

EDIT_WINDOW = timedelta(minutes=5)
NOTIFY_INTERVAL = timedelta(minutes=15)
MAX_BODY_LENGTH = 5000


class Conversation(models.Model):
    """A thread between one side (the interested person, or the enrollment's holder and participant)
    and the staff of one institution.

    Notification batching is kept per side: when a side was last mailed, and whether
    messages arrived since that still wait for the next batch.
    """

    class Kind(models.TextChoices):
        OFFER = "angebot", _("Frage zum Angebot")
        ENROLLMENT = "anmeldung", _("Anmeldung")

    kind = models.CharField(_("Art"), max_length=20, choices=Kind.choices)
    institution = models.ForeignKey(
        "workpro_plugin.Institution", verbose_name=_("Einrichtung"), on_delete=models.PROTECT,
        related_name="conversations",
    )
    # Kept when the offer page is deleted: the history stays readable.
    offer = models.ForeignKey(
        "workpro_plugin.OfferPage", verbose_name=_("Angebot"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="conversations",
    )
    enrollment = models.OneToOneField(
        "workpro_plugin.Enrollment", verbose_name=_("Anmeldung"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="conversation",
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("begonnen von"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="workpro_conversations",
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("zugewiesen an"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="workpro_assigned_conversations",
    )
    created_at = models.DateTimeField(_("begonnen am"), default=timezone.now)
    last_message_at = models.DateTimeField(_("letzte Nachricht am"), null=True, blank=True)
    last_message_from_staff = models.BooleanField(_("zuletzt von der Einrichtung"), default=False)

    member_notified_at = models.DateTimeField(null=True, blank=True)
    member_notify_pending = models.BooleanField(default=False)
    staff_notified_at = models.DateTimeField(null=True, blank=True)
    staff_notify_pending = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("Unterhaltung")
        verbose_name_plural = _("Unterhaltungen")
        ordering = ["-last_message_at", "-pk"]
        indexes = [
            models.Index(fields=["institution", "-last_message_at"], name="workpro_conv_inst_last"),
            models.Index(fields=["member_notify_pending", "staff_notify_pending"], name="workpro_conv_pending"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["offer", "started_by"], condition=models.Q(kind="angebot"),
                                    name="workpro_one_offer_question_per_user"),
            models.CheckConstraint(
                condition=(models.Q(kind="anmeldung", enrollment__isnull=False)
                           | models.Q(kind="angebot", enrollment__isnull=True)),
                name="workpro_conversation_kind_matches"),
        ]

    def __str__(self) -> str:
        return str(self.title)

    @property
    def is_confidential(self) -> bool:
        """Enrollment threads concern a contract (and often a child): their text never leaves in a mail."""
        return self.kind == self.Kind.ENROLLMENT

    @property
    def title(self) -> str:
        offer = self.offer.title if self.offer_id else _("Angebot nicht mehr verfügbar")
        if self.kind == self.Kind.OFFER:
            return _("Frage zum Angebot „%(offer)s“") % {"offer": offer}
        participant = self.enrollment.participant if self.enrollment_id else None
        if participant is not None:
            return f"{offer} – {participant.full_name}"
        return str(offer)


class Message(models.Model):
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("von"), null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+")
    from_staff = models.BooleanField(_("von der Einrichtung"), default=False)
    body = models.TextField(_("Nachricht"), max_length=MAX_BODY_LENGTH, blank=True)
    attachment = models.ForeignKey("workpro_plugin.Document", verbose_name=_("Anhang"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("gesendet am"), default=timezone.now)
    edited_at = models.DateTimeField(_("bearbeitet am"), null=True, blank=True)
    # Earlier wordings after a correction, for staff looking into a complaint: [{"at": iso, "body": text}].
    previous_bodies = models.JSONField(default=list, blank=True)
    hidden_at = models.DateTimeField(_("ausgeblendet am"), null=True, blank=True)
    hidden_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("ausgeblendet von"), null=True,
                                  blank=True, on_delete=models.SET_NULL, related_name="+")
    hidden_reason = models.TextField(_("Grund des Ausblendens"), blank=True)
    changed_at = models.DateTimeField(auto_now=True)  # edited, hidden or shown again: open threads refresh it

    class Meta:
        verbose_name = _("Nachricht")
        verbose_name_plural = _("Nachrichten")
        ordering = ["pk"]
        indexes = [models.Index(fields=["conversation", "id"], name="workpro_msg_conv_id")]

    def __str__(self) -> str:
        return f"{self.created_at:%d.%m.%Y %H:%M} {self.body[:40]}"

    @property
    def is_hidden(self) -> bool:
        return self.hidden_at is not None

    def editable_by(self, user, now=None) -> bool:
        """The author may correct the text for five minutes; hidden messages stay as they are."""
        return (user is not None and self.author_id == user.pk and not self.is_hidden
                and (now or timezone.now()) - self.created_at <= EDIT_WINDOW)


class ConversationRead(models.Model):
    """How far one user has read a conversation (by message id: ids only grow)."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="reads")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    last_read_id = models.PositiveBigIntegerField(default=0)
    read_at = models.DateTimeField(default=timezone.now)
    staff_side = models.BooleanField(default=False)  # read as staff (admin) or as a member (portal)

    class Meta:
        verbose_name = _("Lesestand")
        verbose_name_plural = _("Lesestände")
        constraints = [models.UniqueConstraint(fields=["conversation", "user"], name="workpro_one_read_per_user")]


class ConversationEvent(models.Model):
    """Audit trail of staff actions on a conversation (assignment, hiding a message)."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(_("Aktion"), max_length=80)
    message = models.ForeignKey(Message, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("durch"), null=True, blank=True,
                           on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(_("am"), default=timezone.now)
    note = models.TextField(_("Notiz"), blank=True)

    class Meta:
        verbose_name = _("Ereignis der Unterhaltung")
        verbose_name_plural = _("Ereignisse der Unterhaltung")
        ordering = ["at", "pk"]

    @property
    def label(self) -> str:
        return str(EVENT_LABELS.get(self.action, self.action))


EVENT_LABELS = {
    "workpro.chat.assigned": _("Zugewiesen"),
    "workpro.chat.unassigned": _("Zuweisung aufgehoben"),
    "workpro.chat.message_hidden": _("Nachricht ausgeblendet"),
    "workpro.chat.message_shown": _("Nachricht wieder eingeblendet"),
}


class CannedReply(models.Model):
    """A Textbaustein: a prepared answer staff insert into a reply and adapt before sending.

    It belongs to one institution and applies to all of its offers, or to one of them.
    The text may name placeholders that are filled when it is inserted (see PLACEHOLDERS).
    """

    # Texts only make sense for their institution (and offer): they go with it.
    institution = models.ForeignKey("workpro_plugin.Institution", verbose_name=_("Einrichtung"),
                                    on_delete=models.CASCADE, related_name="canned_replies")
    offer = models.ForeignKey(
        "workpro_plugin.OfferPage", verbose_name=_("Angebot"), null=True, blank=True, on_delete=models.CASCADE,
        related_name="canned_replies",
        help_text=_("Leer lassen, wenn der Textbaustein für alle Angebote der Einrichtung passt."),
    )
    title = models.CharField(_("Titel"), max_length=100,
                             help_text=_("Erscheint in der Auswahl „Textbaustein einfügen“."))
    body = models.TextField(
        _("Text"), max_length=MAX_BODY_LENGTH,
        help_text=_("Platzhalter: {vorname} und {name} (Vor- und Nachname des Kontakts), {angebot} (Titel des "
                    "Angebots), {einrichtung} (Name der Einrichtung)."),
    )
    is_active = models.BooleanField(_("aktiv"), default=True,
                                    help_text=_("Inaktive Textbausteine erscheinen nicht in der Auswahl."))
    created_at = models.DateTimeField(_("angelegt am"), auto_now_add=True)
    updated_at = models.DateTimeField(_("geändert am"), auto_now=True)

    panels = [
        FieldPanel("institution"),
        FieldPanel("offer", widget=forms.Select),  # not the page chooser: only the institution's offers
        FieldPanel("title"),
        FieldPanel("body"),
        FieldPanel("is_active"),
    ]

    class Meta:
        verbose_name = _("Textbaustein")
        verbose_name_plural = _("Textbausteine")
        ordering = ["title", "pk"]
        indexes = [models.Index(fields=["institution", "is_active"], name="workpro_canned_inst_active")]

    def __str__(self) -> str:
        return self.title

    def clean(self):
        super().clean()
        if self.offer_id and self.institution_id:
            offers = OfferPage.objects.descendant_of(self.institution.site.root_page)  # the institution's own
            if not offers.filter(pk=self.offer_id).exists():
                raise ValidationError({"offer": _("Dieses Angebot gehört nicht zu der gewählten Einrichtung.")})
