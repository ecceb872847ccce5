from django.urls import path

from . import views

app_name = "workpro"

urlpatterns = [
    path("konto/", views.account, name="account"),
    path("konto/anmelden/", views.LoginView.as_view(), name="login"),
    path("konto/abmelden/", views.LogoutView.as_view(), name="logout"),
    path("hilfe/", views.help_view, name="help"),
]
