"""Accounts with the host's user model (#17): WorkPro never names `username`; with a custom user
model whose USERNAME_FIELD is `email` (the custom-user run, tests/custom_user/) the login is the
address. The same tests run with Django's User in the main suite."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import reverse

from tests.factories import make_institution, make_user
from workpro_plugin.lib.users import by_login, login_field, login_fields, set_login

pytestmark = pytest.mark.django_db
User = get_user_model()


def test_the_login_field_is_the_models():
    assert login_field() == User.USERNAME_FIELD
    user = User.objects.create(**login_fields("neu@example.org"))
    assert user.get_username() == user.email == "neu@example.org"
    assert User.objects.get(by_login("neu@example.org")) == user
    assert User._default_manager.get_by_natural_key("neu@example.org") == user
    user.save(update_fields=set_login(user, "anders@example.org"))
    user.refresh_from_db()
    assert user.get_username() == user.email == "anders@example.org"


@pytest.mark.skipif(settings.AUTH_USER_MODEL != "custom_user.User", reason="only in the custom-user run")
def test_the_custom_user_run_has_no_username_field():
    assert User.USERNAME_FIELD == "email"
    assert "username" not in {field.name for field in User._meta.get_fields()}


def test_staff_created_in_the_admin_can_log_in_to_the_admin(client):
    """A Leitung account made by a superuser in Wagtail's user admin, then its own admin login."""
    kita = make_institution("kita")
    client.force_login(make_user("admin@example.org", person=False, superuser=True))
    data = {"email": "leitung@kita.test", "first_name": "Lea", "last_name": "Leitung",
            "password1": "Ein-langes-Passwort-2026", "password2": "Ein-langes-Passwort-2026",
            "is_active": "on", "groups": [kita.lead_group.pk]}
    if User.USERNAME_FIELD != "email":
        data[User.USERNAME_FIELD] = "leitung@kita.test"
    response = client.post(reverse("wagtailusers_users:add"), data)
    assert response.status_code == 302, response.context["form"].errors
    staff = User._default_manager.get_by_natural_key("leitung@kita.test")
    assert kita.is_staff_member(staff)
    client.logout()
    login = client.post("/admin/login/", {"username": "leitung@kita.test", "password": "Ein-langes-Passwort-2026"})
    assert login.status_code == 302
    assert client.get("/admin/").status_code == 200
