"""Admin menu items of WorkPro outside the WorkPro group."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from wagtail.admin.menu import MenuItem

from ..selectors.institutions import staff_institutions


class ChatMenuItem(MenuItem):
    def is_shown(self, request):
        return request.user.is_superuser or staff_institutions(request.user).exists()


def chat_menu_item():
    """The register_admin_menu_item hook: "Nachrichten" for superusers and staff of an institution."""
    return ChatMenuItem(_("Nachrichten"), reverse("workpro_chat:inbox"), icon_name="mail", order=199)
