from django.urls import path

from . import views, views_enrollment, views_privacy

app_name = "workpro"

urlpatterns = [
    path("konto/", views.account, name="account"),
    path("konto/anmelden/", views.LoginView.as_view(), name="login"),
    path("konto/abmelden/", views.LogoutView.as_view(), name="logout"),
    path("konto/passwort/", views.set_password, name="set_password"),
    path("konto/passwort-anfordern/", views.password_request_view, name="password_request"),
    path("konto/passwort-anfordern/gesendet/", views.password_request_done, name="password_request_done"),
    path("konto/daten/", views.contact_data, name="contact_data"),
    path("konto/daten/mail-bestaetigen/<str:token>/", views.email_confirm, name="email_confirm"),
    path("konto/anmeldung/<int:pk>/", views.enrollment_detail, name="enrollment_detail"),
    path("konto/anmeldung/<int:pk>/zurueckziehen/", views.enrollment_withdraw, name="enrollment_withdraw"),
    path("konto/anmeldung/<int:pk>/teilnehmer/", views_enrollment.enrollment_participant,
         name="enrollment_participant"),
    path("konto/anmeldung/<int:pk>/angaben/<slug:section>/", views_enrollment.enrollment_section,
         name="enrollment_section"),
    path("konto/anmeldung/<int:pk>/drucken/", views_enrollment.enrollment_print, name="enrollment_print"),
    path("konto/anmeldung/<int:pk>/absenden/", views_enrollment.enrollment_submit, name="enrollment_submit"),
    path("konto/anmeldung/<int:pk>/angebot-annehmen/", views_enrollment.enrollment_accept, name="enrollment_accept"),
    path("konto/dokumente/<int:pk>/", views_enrollment.document_download, name="document"),
    path("angebot/<int:offer_id>/anmelden/", views_enrollment.offer_enroll, name="offer_enroll"),
    path("registriert/", views.registration_done, name="registration_done"),
    path("hilfe/", views.help_view, name="help"),
    path("konto/daten/herunterladen/", views_privacy.data_export, name="data_export"),
]
