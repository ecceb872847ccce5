"""Admin menu items of WorkPro outside the WorkPro group, and the main menu as a Kita's staff see it."""

from __future__ import annotations

import copy

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from wagtail.admin.menu import Menu, MenuItem, SubmenuMenuItem

from ..selectors.institutions import is_staff_anywhere


class ChatMenuItem(MenuItem):
    def is_shown(self, request):
        return is_staff_anywhere(request.user)


def chat_menu_item():
    """The register_admin_menu_item hook: "Nachrichten" for superusers and staff of an institution."""
    return ChatMenuItem(_("Nachrichten"), reverse("workpro_chat:inbox"), icon_name="mail", order=199)


# What a Kita needs first, in this order (by URL name); the page explorer (offers) comes after them.
KITA_FIRST = (
    "workpro_plugin_enrollment_modeladmin_index",   # Anmeldungen
    "workpro_plugin_person_modeladmin_index",       # Kunden/Teilnehmer
    "workpro_chat:inbox",                           # Nachrichten
    "workpro_plugin_addonbooking_modeladmin_index",  # Zusatzbuchungen
    "workpro_plugin_app_modeladmin_index",          # Anwendungen
    "workpro_plugin_cannedreply_modeladmin_index",  # Textbausteine
)
EXPLORER_ORDER = 35  # after Nachrichten: Seiten (the homepage and its offers)
MORE_ORDER = 900


def _placed(item: MenuItem, order: int) -> MenuItem:
    """A copy with another order: the registered items are shared by all requests and must not change."""
    placed = copy.copy(item)
    placed.order = order
    return placed


def arrange_main_menu(request, menu_items: list) -> None:
    """The construct_main_menu hook: for staff of an institution (not superusers) the WorkPro entries
    come first at the top level, in a Kita's order, then the pages; Wagtail's generic entries (images,
    documents, ...) move into one "Weitere" submenu, its own submenus (Berichte, Einstellungen) last."""
    user = request.user
    if user.is_superuser or not is_staff_anywhere(user):
        return
    explorer = reverse("wagtailadmin_explore_root")
    first = {reverse(name): 10 * (index + 1) for index, name in enumerate(KITA_FIRST)}
    arranged, more, submenus = [], [], []
    for item in menu_items:
        children = item.menu.menu_items_for_request(request) if isinstance(item, SubmenuMenuItem) else []
        if any(child.url in first for child in children):  # the WorkPro group: its entries move up
            for position, child in enumerate(sorted(children, key=lambda c: c.order)):
                arranged.append(_placed(child, first.get(child.url, 100 + position)))
        elif item.url in first:
            arranged.append(_placed(item, first[item.url]))
        elif item.url == explorer:
            arranged.append(_placed(item, EXPLORER_ORDER))
        elif isinstance(item, SubmenuMenuItem):
            submenus.append(_placed(item, MORE_ORDER + 10 + len(submenus)))
        else:
            more.append(item)
    if more:
        arranged.append(SubmenuMenuItem(_("Weitere"), Menu(items=more), icon_name="dots-horizontal",
                                        order=MORE_ORDER))
    menu_items[:] = arranged + submenus
