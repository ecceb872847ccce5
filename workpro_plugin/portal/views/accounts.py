"""Portal views of the login and the account itself: log in and out, lockout, passwords, contact data.

Every portal view: check permission, call a service, render or redirect. No business logic."""

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from ...lib.http import client_ip
from ...selectors.sites import institution_for_request
from ...services.accounts import (
    EmailChangeError,
    PasswordRequest,
    RateLimited,
    account_confirm_email_change,
    account_request_email_change,
    account_set_password,
    account_update_contact,
    check_password_request_rate,
    check_request_rate,
    email_change_pending,
    password_request,
)
from ...services.privacy import portal_exportable_people
from ..forms.accounts import (
    ContactDataForm,
    EmailAuthenticationForm,
    PasswordRequestForm,
    SetPasswordForm,
)
from ..shortcuts import LOGIN_URL


class LocalNextMixin:
    """`next` only as a path on this site: Django also accepts "0" or "evil.example", which a browser
    resolves against the current URL (same site, but never what was meant)."""

    def get_redirect_url(self):
        url = super().get_redirect_url()
        return url if url.startswith("/") else ""


class LoginView(LocalNextMixin, auth_views.LoginView):
    template_name = "workpro_plugin/account/login.html"
    authentication_form = EmailAuthenticationForm
    redirect_authenticated_user = True

    def get_default_redirect_url(self):
        return reverse("workpro:account")

    def form_invalid(self, form):
        response = super().form_invalid(form)
        response.status_code = 400  # bad input, like every other form
        return response


class LogoutView(LocalNextMixin, auth_views.LogoutView):
    next_page = LOGIN_URL


def lockout(request, original_response=None, credentials=None):
    """django-axes: too many failed logins. Same form, a clear message, the email kept."""
    message = _("Zu viele fehlgeschlagene Anmeldeversuche. Der Zugang ist für 15 Minuten gesperrt. "
                "Falls Sie Ihr Passwort vergessen haben, können Sie schon jetzt ein neues anfordern und es "
                "nach Ablauf der Sperre verwenden.")
    match = getattr(request, "resolver_match", None)
    if match is None or match.namespace != "workpro":  # e.g. the Wagtail admin login
        return render(request, "workpro_plugin/account/locked_out.html", {"message": message}, status=429)
    form = EmailAuthenticationForm(request, data=request.POST or None)
    form.is_valid()  # bind the typed email; the password is never re-displayed
    form.errors.clear()
    form.add_error(None, message)
    return render(request, "workpro_plugin/account/login.html", {"form": form, "locked_out": True}, status=429)


@sensitive_post_parameters()
@never_cache
@login_required(login_url=LOGIN_URL)
def set_password(request):
    """Passwort festlegen: required after logging in with an issued password."""
    person = getattr(request.user, "workpro_person", None)
    forced = bool(person and person.must_set_password)
    form = SetPasswordForm(request.user, request.POST or None, issued=forced)
    if request.method == "POST" and form.is_valid():
        account_set_password(user=request.user, password=form.cleaned_data["new_password1"])
        update_session_auth_hash(request, request.user)
        messages.success(request, _("Ihr Passwort wurde gespeichert."))
        return redirect("workpro:account")
    return render(request, "workpro_plugin/account/set_password.html", {
        "form": form, "forced": forced,
    }, status=400 if form.errors else 200)


@login_required(login_url=LOGIN_URL)
def contact_data(request):
    """Meine Daten: the account holder's address, mobile number, mail language and email."""
    person = getattr(request.user, "workpro_person", None)
    if person is None:
        raise Http404
    initial = {"email": request.user.email, "street": person.street, "postcode": person.postcode,
               "city": person.city, "mobile": person.mobile, "date_of_birth": person.date_of_birth,
               "language": person.language}
    form = ContactDataForm(request.POST if request.method == "POST" else None, initial=initial, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        account_update_contact(user=request.user, street=data["street"], postcode=data["postcode"],
                               city=data["city"], mobile=data["mobile"], language=data["language"],
                               date_of_birth=data["date_of_birth"])
        if data["email"] != request.user.email:
            account_request_email_change(user=request.user, new_email=data["email"])
            messages.info(request, _("Wir haben einen Bestätigungslink an %(email)s gesendet. Die neue Adresse "
                                     "gilt, sobald Sie ihn öffnen.") % {"email": data["email"]})
        messages.success(request, _("Ihre Daten wurden gespeichert."))
        return redirect("workpro:contact_data")
    return render(request, "workpro_plugin/account/contact_data.html", {
        "form": form, "exportable_people": portal_exportable_people(request.user),
    }, status=400 if form.errors else 200)


@never_cache
@login_required(login_url=LOGIN_URL)
@require_http_methods(["GET", "POST"])
def email_confirm(request, token: str):
    """The link from the mail: GET shows the new address and a button, POST confirms it (once).

    A GET changes nothing, so link scanners and prefetching mail clients cannot confirm, and a
    link that was used, replaced or has expired says so.
    """
    try:
        if request.method == "POST":
            email = account_confirm_email_change(user=request.user, token=token)
        else:
            new_email = email_change_pending(user=request.user, token=token)
    except EmailChangeError as exc:
        return render(request, "workpro_plugin/account/email_confirm.html", {"error": str(exc)}, status=400)
    if request.method == "POST":
        messages.success(request, _("Ihre Mailadresse ist jetzt %(email)s.") % {"email": email})
        return redirect("workpro:contact_data")
    return render(request, "workpro_plugin/account/email_confirm.html", {"new_email": new_email})


@sensitive_post_parameters()
@require_http_methods(["GET", "POST"])
def password_request_view(request):
    """Neues Passwort anfordern: the same answer whether or not the data matched."""
    institution = institution_for_request(request)
    form = PasswordRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        wanted = PasswordRequest(
            last_name=data["last_name"], first_name=data["first_name"],
            date_of_birth=data["date_of_birth"], email=data["email"], mobile=data["mobile"],
            customer_number=data["customer_number"].strip(),
        )
        try:
            check_request_rate(client_ip(request) or "")
            check_password_request_rate(wanted)  # client addresses can be rotated
        except RateLimited as refused:
            if refused.scope == "pwrequest-ip":
                form.add_error(None, _("Zu viele Anfragen von diesem Anschluss. "
                                       "Bitte versuchen Sie es in einer Stunde erneut."))
            else:
                form.add_error(None, _("Für diese Angaben gab es zu viele Anfragen. Bitte versuchen Sie es später "
                                       "erneut oder wenden Sie sich an Ihre Einrichtung."))
        else:
            password_request(data=wanted, site_institution=institution)
            return redirect("workpro:password_request_done")
    return render(request, "workpro_plugin/account/password_request.html", {
        "form": form, "institution": institution,
    }, status=400 if form.errors else 200)


def password_request_done(request):
    return render(request, "workpro_plugin/account/password_request_done.html", {
        "institution": institution_for_request(request),
    })


def axes_username(request, credentials=None) -> str:
    """Lock out by the normalised email, so "A@x.de" and "a@x.de " count together."""
    value = (credentials or {}).get("username") or request.POST.get("username", "")
    return value.strip().lower()
