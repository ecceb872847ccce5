"""Ausgangsnachrichten in the Wagtail admin: the outbox, read-only for superusers."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from wagtail_modeladmin.options import ModelAdmin

from ..models import OutboxMessage
from .permissions import ReadOnlyForSuperusers


class OutboxAdmin(ModelAdmin):
    model = OutboxMessage
    menu_label = _("Ausgangsnachrichten")
    menu_icon = "mail"
    permission_helper_class = ReadOnlyForSuperusers
    inspect_view_enabled = True
    inspect_view_fields = ("channel", "recipient", "template", "subject", "state", "attempts", "last_error",
                           "created_at", "next_attempt_at", "sent_at", "institution")
    list_display = ("created_at", "channel", "recipient", "template", "state", "attempts")
    list_filter = ("state", "channel", "template")
    search_fields = ("recipient", "template", "subject")
