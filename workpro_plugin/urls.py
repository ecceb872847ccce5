from django.urls import path

from . import views

app_name = "workpro"

urlpatterns = [
    path("konto/", views.account, name="account"),
    path("konto/anmelden/", views.LoginView.as_view(), name="login"),
    path("konto/abmelden/", views.LogoutView.as_view(), name="logout"),
    path("konto/passwort/", views.set_password, name="set_password"),
    path("konto/passwort-anfordern/", views.password_request_view, name="password_request"),
    path("konto/passwort-anfordern/gesendet/", views.password_request_done, name="password_request_done"),
    path("konto/anmeldung/<int:pk>/", views.enrollment_detail, name="enrollment_detail"),
    path("konto/anmeldung/<int:pk>/zurueckziehen/", views.enrollment_withdraw, name="enrollment_withdraw"),
    path("registriert/", views.registration_done, name="registration_done"),
    path("hilfe/", views.help_view, name="help"),
]
