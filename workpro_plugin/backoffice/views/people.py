"""Help a person (Kunden/Teilnehmer): correct contact data, send a new password.

The person must belong to one of the user's institutions (else 404); acting needs the
Sachbearbeitung or Leitung of one of the person's institutions (else 403). A Sachbearbeitung may do
both: parents call them first, the password goes only to a channel already stored (staff never learn
or choose it), a new mail address takes effect only after its owner confirmed it, and every step is in
the audit log with the reason.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from ...access import is_chat_staff
from ...models import Person
from ...selectors.people import person_institutions, staff_people
from ...services import people as svc
from ..forms import PasswordSendForm, PersonContactForm
from ..shortcuts import staff_object_or_404


def _person(request, pk: int) -> Person:
    person = staff_object_or_404(staff_people(request.user).select_related("user"), pk, request=request,
                                 object_type="workpro_plugin.person")
    if not any(is_chat_staff(request.user, i) for i in person_institutions(person)):
        raise PermissionDenied
    return person


def inspect_url(person: Person) -> str:
    return reverse("workpro_plugin_person_modeladmin_inspect", args=[person.pk])


def _render(request, person, form, title, template):
    return TemplateResponse(request, f"workpro_plugin/admin/{template}.html", {
        "person": person, "form": form, "inspect_url": inspect_url(person), "header_title": title,
    }, status=400 if form.errors else 200)


def person_contact(request, pk: int):
    """Kontaktdaten korrigieren."""
    person = _person(request, pk)
    current = person.user.email if person.user_id else person.email
    initial = {"street": person.street, "postcode": person.postcode, "city": person.city, "mobile": person.mobile,
               "email": current}
    form = PersonContactForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            result = svc.person_correct_contact(
                person=person, by=request.user, street=data["street"], postcode=data["postcode"], city=data["city"],
                mobile=data["mobile"], email=data["email"], reason=data["reason"])
        except svc.PersonHelpError as exc:
            exc.add_to(form)
        else:
            if result.changed:
                messages.success(request, _("Die Kontaktdaten von %(name)s wurden korrigiert.")
                                 % {"name": person.full_name})
            if result.email_pending:
                messages.info(request, _("An %(email)s wurde ein Bestätigungslink geschickt. Die Mailadresse ändert "
                                         "sich erst, wenn die Person ihn öffnet und bestätigt.")
                              % {"email": result.email_pending})
            return redirect(inspect_url(person))
    return _render(request, person, form, _("Kontaktdaten korrigieren"), "person_contact")


def person_password(request, pk: int):
    """Neues Passwort senden."""
    person = _person(request, pk)
    form = PasswordSendForm(request.POST if request.method == "POST" else None, person=person)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            channel = svc.person_send_password(person=person, by=request.user, channel=data["channel"],
                                               identity_check=data["identity_check"], reason=data["reason"])
        except svc.PersonHelpError as exc:
            exc.add_to(form)
        else:
            messages.success(request, _("Ein neues Passwort wurde per SMS gesendet.") if channel == svc.Channel.SMS
                             else _("Ein neues Passwort wurde per Mail gesendet."))
            return redirect(inspect_url(person))
    return _render(request, person, form, _("Neues Passwort senden"), "person_password")
