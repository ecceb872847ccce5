from django.urls import path

from .portal.guards import guard_patterns
from .portal.views import accounts as views
from .portal.views import addons as views_addons
from .portal.views import allocation as views_allocation
from .portal.views import app_assignments as views_apps
from .portal.views import chat as views_chat
from .portal.views import documents as views_documents
from .portal.views import enrollments as views_enrollment
from .portal.views import help as views_help
from .portal.views import minors as views_minors
from .portal.views import privacy as views_privacy
from .portal.views import registration as views_registration
from .portal.views import seo as views_seo
from .shared import health

app_name = "workpro"

urlpatterns = [
    path("konto/", views_enrollment.account, name="account"),
    path("konto/anmelden/", views.LoginView.as_view(), name="login"),
    path("konto/abmelden/", views.LogoutView.as_view(), name="logout"),
    path("konto/passwort/", views.set_password, name="set_password"),
    path("konto/passwort-anfordern/", views.password_request_view, name="password_request"),
    path("konto/passwort-anfordern/gesendet/", views.password_request_done, name="password_request_done"),
    path("konto/daten/", views.contact_data, name="contact_data"),
    path("konto/daten/mail-bestaetigen/<str:token>/", views.email_confirm, name="email_confirm"),
    path("konto/anmeldung/<int:pk>/", views_enrollment.enrollment_detail, name="enrollment_detail"),
    path("konto/anmeldung/<int:pk>/zurueckziehen/", views_enrollment.enrollment_withdraw, name="enrollment_withdraw"),
    path("konto/anmeldung/<int:pk>/teilnehmer/", views_enrollment.enrollment_participant,
         name="enrollment_participant"),
    path("konto/anmeldung/<int:pk>/angaben/<slug:section>/", views_enrollment.enrollment_section,
         name="enrollment_section"),
    path("konto/anmeldung/<int:pk>/drucken/", views_enrollment.enrollment_print, name="enrollment_print"),
    path("konto/anmeldung/<int:pk>/absenden/", views_enrollment.enrollment_submit, name="enrollment_submit"),
    path("konto/anmeldung/<int:pk>/angebot-annehmen/", views_enrollment.enrollment_accept, name="enrollment_accept"),
    path("konto/anmeldung/<int:pk>/einkommensnachweis/", views_enrollment.enrollment_proof, name="enrollment_proof"),
    path("konto/dokumente/", views_documents.documents, name="documents"),
    path("konto/wunschliste/<int:person_id>/", views_allocation.wishlist, name="wishlist"),
    path("konto/anmeldung/<int:pk>/platz-annehmen/", views_allocation.place_accept, name="place_accept"),
    path("konto/anmeldung/<int:pk>/platz-ablehnen/", views_allocation.place_decline, name="place_decline"),
    path("konto/teilnehmer/<int:person_id>/zugang/", views_minors.participant_login, name="participant_login"),
    path("konto/teilnehmer/<int:person_id>/sicht/", views_minors.participant_view, name="participant_view"),
    path("konto/anmeldung/<int:pk>/notfall/", views_minors.care, name="care"),
    path("konto/anmeldung/<int:pk>/notfall/<slug:kind>/<int:contact_id>/", views_minors.care_edit,
         name="care_edit"),
    path("konto/anmeldung/<int:pk>/notfall/<slug:kind>/<int:contact_id>/entfernen/", views_minors.care_remove,
         name="care_remove"),
    path("konto/anmeldung/<int:pk>/abholberechtigt/<int:contact_id>/foto/", views_minors.pickup_photo,
         name="pickup_photo"),
    path("konto/dokumente/<int:pk>/", views_documents.document_download, name="document"),
    path("angebot/<int:offer_id>/anmelden/", views_enrollment.offer_enroll, name="offer_enroll"),
    path("registriert/", views_registration.registration_done, name="registration_done"),
    path("hilfe/", views_help.help_view, name="help"),
    path("konto/daten/herunterladen/", views_privacy.data_export, name="data_export"),
    path("konto/daten/loeschen/", views_privacy.account_delete, name="account_delete"),
    path("konto/nachrichten/", views_chat.chat_list, name="chat_list"),
    path("konto/nachrichten/<int:pk>/", views_chat.chat_thread, name="chat_thread"),
    path("konto/nachrichten/<int:pk>/neu/", views_chat.chat_poll, name="chat_poll"),
    path("konto/nachrichten/<int:pk>/nachricht/<int:message_pk>/bearbeiten/", views_chat.chat_edit,
         name="chat_edit"),
    path("konto/nachrichten/<int:pk>/anhang/<int:message_pk>/", views_chat.chat_attachment, name="chat_attachment"),
    path("konto/nachrichten/angebot/<int:offer_id>/", views_chat.chat_offer, name="chat_offer"),
    path("konto/anmeldung/<int:pk>/nachrichten/", views_chat.chat_enrollment, name="chat_enrollment"),
]

urlpatterns += [
    path("konto/anmeldung/<int:pk>/zusatzangebote/", views_addons.enrollment_addons, name="enrollment_addons"),
    path("konto/anmeldung/<int:pk>/zusatzangebote/<int:addon_id>/buchen/", views_addons.addon_book,
         name="addon_book"),
    path("konto/zusatzbuchung/<int:pk>/zurueckziehen/", views_addons.addon_cancel, name="addon_cancel"),
    path("konto/anwendungen/", views_apps.apps, name="apps"),
    path("konto/anwendungen/<int:app_id>/fuer/<int:person_id>/annehmen/", views_apps.app_accept, name="app_accept"),
    path("konto/anwendungen/<int:app_id>/fuer/<int:person_id>/oeffnen/", views_apps.app_open, name="app_open"),
]

# Last: an issued password opens only "Passwort ändern", with or without IssuedPasswordMiddleware.
urlpatterns = guard_patterns(urlpatterns)

# Public, for search engines (answer for the request's site; no account involved).
urlpatterns += [
    path("sitemap.xml", views_seo.sitemap_view, name="sitemap"),
    path("robots.txt", views_seo.robots_view, name="robots"),
]

# For the host's root urls.py, outside i18n_patterns (crawlers read /robots.txt and nothing else):
#     from workpro_plugin.urls import seo_patterns
#     urlpatterns = seo_patterns + urlpatterns
# robots.txt then names /sitemap.xml; without them it names /workpro/sitemap.xml.
seo_patterns = [
    path("sitemap.xml", views_seo.sitemap_view, name="workpro_sitemap"),
    path("robots.txt", views_seo.robots_view, name="workpro_robots"),
]

# Health URLs (workpro_plugin/shared/health.py) for the host's root urls.py, outside i18n_patterns:
#     from workpro_plugin.urls import health_patterns
#     urlpatterns = health_patterns + urlpatterns
# /-/health/ checks database, cache and storages; /-/health/tasks/ the task cluster's heartbeat.
health_patterns = [
    path("-/health/", health.web_health, name="workpro_health"),
    path("-/health/tasks/", health.task_cluster_health, name="workpro_health_tasks"),
]
