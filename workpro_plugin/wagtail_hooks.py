"""Admin wiring only: the WorkPro modeladmin group, the snippets, admin URLs, menu items and the dashboard
panel are registered here; the classes and their logic live in backoffice/<feature>.py."""

from django.urls import include, path
from wagtail import hooks
from wagtail.snippets.models import register_snippet
from wagtail.utils.urlpatterns import decorate_urlpatterns
from wagtail_modeladmin.options import modeladmin_register

from .backoffice import addons as admin_addons
from .backoffice import allocation as admin_allocation
from .backoffice import app_assignments as admin_apps
from .backoffice import dashboard as admin_dashboard
from .backoffice import fees as admin_fees
from .backoffice import menu as admin_menu
from .backoffice import pages as admin_pages
from .backoffice import texts as admin_texts
from .backoffice.group import WorkProAdminGroup
from .backoffice.helpers import declared_params_snippets
from .backoffice.views import chat as admin_views_chat
from .backoffice.views import enrollments as admin_views
from .backoffice.views import people as admin_people
from .backoffice.views import privacy as admin_privacy
from .backoffice.views import two_factor as views_2fa
from .models import OfferPage
from .portal.views import registration
from .shared.audit import audit_denials

register_snippet(declared_params_snippets(admin_fees.FeeScheduleViewSet))
modeladmin_register(WorkProAdminGroup)


@hooks.register("register_admin_urls")
def register_workpro_admin_urls():
    urls = [
        path("anmeldung/<int:pk>/vorschau-angebot/", admin_views.offer_preview, name="offer_preview"),
        path("anmeldung/<int:pk>/<slug:action>/", admin_views.enrollment_action, name="enrollment_action"),
        path("anmeldungen/einladen/", admin_views.bulk_invite, name="bulk_invite"),
        path("anmeldungen/entscheiden/", admin_views.bulk_decide, name="bulk_decide"),
        *admin_addons.admin_urls,
        *admin_allocation.admin_urls,
        *admin_apps.admin_urls,
        *admin_texts.admin_urls,
        path("zwei-faktor/", views_2fa.two_factor_manage, name="two_factor"),
        path("zwei-faktor/einrichten/", views_2fa.two_factor_setup, name="two_factor_setup"),
        path("zwei-faktor/code/", views_2fa.two_factor_verify, name="two_factor_verify"),
        path("zwei-faktor/link-anfordern/", views_2fa.two_factor_link_request, name="two_factor_link_request"),
        path("zwei-faktor/link/<str:token>/", views_2fa.two_factor_link, name="two_factor_link"),
        path("zwei-faktor/wiederherstellungscodes/", views_2fa.two_factor_recovery, name="two_factor_recovery"),
        path("zwei-faktor/mitarbeiter/", views_2fa.two_factor_staff, name="two_factor_staff"),
        path("zwei-faktor/mitarbeiter/<int:pk>/link/", views_2fa.two_factor_staff_link, name="two_factor_staff_link"),
        path("person/<int:pk>/daten-export/", admin_privacy.admin_person_export, name="person_export"),
        path("person/<int:pk>/kontaktdaten/", admin_people.person_contact, name="person_contact"),
        path("person/<int:pk>/neues-passwort/", admin_people.person_password, name="person_password"),
    ]
    return [path("workpro/", include((decorate_urlpatterns(urls, audit_denials), "workpro_admin"),
                                     namespace="workpro_admin"))]


hooks.register("construct_homepage_panels", admin_dashboard.add_enrollment_panel)
hooks.register("construct_page_chooser_queryset", admin_pages.own_pages_only)


@hooks.register("register_admin_urls")
def register_chat_admin_urls():
    return [path("workpro/nachrichten/", include((admin_views_chat.urls, "workpro_chat"), namespace="workpro_chat"))]


hooks.register("register_admin_menu_item", admin_menu.chat_menu_item)
hooks.register("construct_main_menu", admin_menu.arrange_main_menu)
hooks.register("register_account_menu_item", views_2fa.account_menu_item)


@hooks.register("before_serve_page")
def offer_registration(page, request, serve_args, serve_kwargs):
    """POST on an offer page by an anonymous visitor is "Registrieren" (portal.views.registration)."""
    if isinstance(page, OfferPage) and request.method == "POST" and not request.user.is_authenticated:
        return registration.register(request, page, *serve_args, **serve_kwargs)
    return None
