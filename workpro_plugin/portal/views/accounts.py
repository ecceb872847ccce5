"""Portal views: check permission, call a service, render or redirect. No business logic."""

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from ..forms.accounts import EmailAuthenticationForm, PasswordRequestForm, SetPasswordForm
from ...lib.help_text import DEFAULT_HELP_HTML
from ...models import Enrollment
from ...selectors.sites import institution_for_request
from ...lib.http import client_ip
from ...services.accounts import (
    PasswordRequest,
    RateLimited,
    account_set_password,
    check_password_request_rate,
    check_request_rate,
    password_request,
)
from ...services.enrollments import EnrollmentActionError, available_transitions
from ...services.enrollments import enrollment_withdraw as enrollment_withdraw_service

LOGIN_URL = reverse_lazy("workpro:login")


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


@login_required(login_url=LOGIN_URL)
def account(request):
    """Mein Konto: Alle Verträge with the next step, the wards, the participant's own view, documents."""
    from ...access import PortalRole, portal_role
    from ...selectors.documents import portal_documents
    from ...selectors.enrollments import portal_enrollments
    from ...services.minors import outstanding_care, wards_of

    enrollments = list(
        portal_enrollments(request.user).select_related("offer", "institution", "participant", "account_holder")
        .prefetch_related("participant__guardianships__guardian", "emergency_contacts", "pickup_persons")
        .order_by("-created_at")
    )
    contracts, participations = [], []
    for enrollment in enrollments:
        enrollment.portal_role = portal_role(request.user, enrollment)
        if enrollment.portal_role == PortalRole.PARTICIPANT:
            participations.append(enrollment)
            continue
        enrollment.care_missing = outstanding_care(enrollment)
        contracts.append(enrollment)
    return render(request, "workpro_plugin/account/overview.html", {
        "institution": institution_for_request(request),
        "enrollments": contracts,
        "participations": participations,
        "wards": wards_of(request.user),
        "unread_documents": portal_documents(request.user).filter(superseded=False, first_opened_at__isnull=True)
        .exclude(uploaded_by=request.user).count(),
        "person": getattr(request.user, "workpro_person", None),
    })


@login_required(login_url=LOGIN_URL)
def documents(request):
    """Dokumente: everything deposited for the user, newest first, unread ones marked."""
    from ...selectors.documents import portal_documents

    items = (portal_documents(request.user).filter(superseded=False)
             .select_related("enrollment__offer", "owner").order_by("-deposited_at"))
    return render(request, "workpro_plugin/account/documents.html", {"documents": items})


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


def _own_enrollment(request, pk: int) -> Enrollment:
    """Only the account holder manages an enrollment; anyone else gets a 404 (audited)."""
    try:
        return Enrollment.objects.select_related("offer", "institution", "participant").get(
            pk=pk, account_holder=request.user)
    except Enrollment.DoesNotExist:
        from ...services import audit

        audit.denied(request, object_type="workpro_plugin.enrollment", object_id=pk)
        raise Http404 from None


def _portal_enrollment(request, pk: int) -> Enrollment:
    """An enrollment the user may see in the portal in any role; anything else is an audited 404."""
    from ...selectors.enrollments import portal_enrollments

    enrollment = portal_enrollments(request.user).select_related("offer", "institution", "participant").filter(
        pk=pk).first()
    if enrollment is None:
        from ...services import audit

        audit.denied(request, object_type="workpro_plugin.enrollment", object_id=pk)
        raise Http404
    return enrollment


@login_required(login_url=LOGIN_URL)
def enrollment_detail(request, pk: int):
    """One contract. The holder acts; a participant with own login and a former PSB1 only read."""
    from ...access import PortalRole, portal_role
    from ...selectors.documents import portal_documents
    from ...services.applications import editable_sections
    from ...services.minors import care_required, outstanding_care
    from .enrollments import section_menu

    enrollment = _portal_enrollment(request, pk)
    role = portal_role(request.user, enrollment)
    is_holder = role == PortalRole.HOLDER
    editable = editable_sections(enrollment) if is_holder else []
    return render(request, "workpro_plugin/account/enrollment_detail.html", {
        "enrollment": enrollment,
        "role": role,
        "is_holder": is_holder,
        "log_entries": enrollment.log_entries.select_related("by") if role != PortalRole.PARTICIPANT else [],
        "transitions": available_transitions(enrollment, request.user) if is_holder else [],
        "menu": section_menu(enrollment) if enrollment.participant_id and is_holder else [],
        "editable_sections": editable,
        "print_outdated": bool(editable) and enrollment.printed_fingerprint != enrollment.data_fingerprint(),
        "documents": portal_documents(request.user).filter(enrollment=enrollment, superseded=False),
        "care_required": care_required(enrollment) and role != PortalRole.PARTICIPANT,
        "care_missing": outstanding_care(enrollment),
    })


@login_required(login_url=LOGIN_URL)
@require_POST
def enrollment_withdraw(request, pk: int):
    enrollment = _own_enrollment(request, pk)
    try:
        reason = request.POST.get("reason", "").replace("\x00", "")[:1000]  # PostgreSQL refuses NUL in text
        enrollment_withdraw_service(enrollment=enrollment, by=request.user, reason=reason)
    except EnrollmentActionError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Die Anmeldung wurde zurückgezogen."))
    return redirect("workpro:enrollment_detail", pk=enrollment.pk)


@login_required(login_url=LOGIN_URL)
def contact_data(request):
    """Meine Daten: the account holder's address, mobile number, mail language and email."""
    from ..forms.accounts import ContactDataForm
    from ...services.accounts import account_request_email_change, account_update_contact

    person = getattr(request.user, "workpro_person", None)
    if person is None:
        raise Http404
    initial = {"email": request.user.email, "street": person.street, "postcode": person.postcode,
               "city": person.city, "mobile": person.mobile, "language": person.language}
    form = ContactDataForm(request.POST if request.method == "POST" else None, initial=initial, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        account_update_contact(user=request.user, street=data["street"], postcode=data["postcode"],
                               city=data["city"], mobile=data["mobile"], language=data["language"])
        if data["email"] != request.user.email:
            account_request_email_change(user=request.user, new_email=data["email"])
            messages.info(request, _("Wir haben einen Bestätigungslink an %(email)s gesendet. Die neue Adresse "
                                     "gilt, sobald Sie ihn öffnen.") % {"email": data["email"]})
        messages.success(request, _("Ihre Daten wurden gespeichert."))
        return redirect("workpro:contact_data")
    from ...services.privacy import portal_exportable_people

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
    from ...services.accounts import EmailChangeError, account_confirm_email_change, email_change_pending

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


def help_view(request):
    """Fallback for sites without a help page: the default usage hints."""
    return render(request, "workpro_plugin/help.html", {"help_html": DEFAULT_HELP_HTML})


def axes_username(request, credentials=None) -> str:
    """Lock out by the normalised email, so "A@x.de" and "a@x.de " count together."""
    value = (credentials or {}).get("username") or request.POST.get("username", "")
    return value.strip().lower()
