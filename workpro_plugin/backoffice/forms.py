"""Forms of the Wagtail admin: the staff transition views, and the edit forms of apps, Textbausteine and
Gebührenordnungen (given to their modeladmin or snippet viewset as the edit handler's base form)."""

from datetime import datetime, time

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.forms.auth import LoginForm

from ..lib.choices import DeadlineKind
from ..lib.fees import Bracket, bracket_errors
from ..lib.form_fields import ModelChoiceField, ModelMultipleChoiceField  # noqa: F401 - used as admin_forms.*
from ..lib.formats import format_date, format_datetime
from ..lib.phones import normalize_phone
from ..models import DecisionBasis, Enrollment
from ..models.chat import MAX_BODY_LENGTH
from ..selectors.chat import BROADCAST_GROUPS, chat_staff_institutions
from ..selectors.offers import institution_offers
from ..services.apps import manageable_institutions
from ..services.people import Channel, IdentityCheck


class AdminLoginForm(LoginForm):
    """Wagtail's login form with a translated password label (Wagtail leaves it to the field name)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["password"].label = _("Passwort")


DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TIME = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


class InviteForm(forms.Form):
    date = forms.DateField(label=_("Datum"), widget=DATE)
    time = forms.TimeField(label=_("Uhrzeit"), widget=TIME)
    place = forms.CharField(label=_("Ort"), max_length=200)
    note = forms.CharField(label=_("Hinweis für die Einladung"), required=False, max_length=2000,
                           widget=forms.Textarea(attrs={"rows": 3}))

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("date") and cleaned.get("time"):
            moment = timezone.make_aware(datetime.combine(cleaned["date"], cleaned["time"]))
            if moment < timezone.now():
                self.add_error("date", _("Der Termin liegt in der Vergangenheit."))
            cleaned["at"] = moment
        return cleaned


class RadioSelectSomeDisabled(forms.RadioSelect):
    """Radio buttons of which some are shown but cannot be chosen (`disabled_values`)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.disabled_values = set()

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex=subindex, attrs=attrs)
        if str(value) in self.disabled_values:
            option["attrs"]["disabled"] = True
        return option


class DecideForm(forms.Form):
    decision = forms.ChoiceField(label=_("Entscheidung"), widget=forms.RadioSelect,
                                 choices=[("kandidat", _("Kandidat")), ("abgelehnt", _("Abgelehnt"))])
    basis = forms.ChoiceField(label=_("Grundlage"), widget=RadioSelectSomeDisabled, choices=[
        (value, label) for value, label in DecisionBasis.choices if value != DecisionBasis.ALLOCATION])

    def for_enrollment(self, enrollment) -> None:
        """Before the interview's date and time only "ohne Gespräch" can be chosen; the service checks it again."""
        possible = {str(basis) for basis in enrollment.decision_bases()}
        self.fields["basis"].widget.disabled_values = {value for value, _label in DecisionBasis.choices
                                                       if value not in possible}
        if enrollment.status == "eingeladen" and DecisionBasis.ATTENDED not in possible:
            self.fields["basis"].help_text = _(
                "„nach dem Gespräch“ und „Nichterscheinen“ sind erst nach dem Gesprächstermin (%(at)s) möglich."
            ) % {"at": format_datetime(enrollment.interview_at)}
    reason = forms.CharField(label=_("Begründung (erscheint in der Mail)"), required=False, max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 3}))

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("decision") == "abgelehnt" and not cleaned.get("reason", "").strip():
            self.add_error("reason", _("Bitte begründen Sie die Ablehnung."))
        return cleaned


class ProofForm(forms.Form):
    deadline = forms.DateField(label=_("Nachweis bis"), widget=DATE)

    def clean_deadline(self):
        value = self.cleaned_data["deadline"]
        if value < timezone.localdate():
            raise forms.ValidationError(_("Die Frist darf nicht in der Vergangenheit liegen."))
        return value


class OfferForm(forms.Form):
    costs = forms.DecimalField(label=_("Kosten (€)"), min_value=0, max_digits=10, decimal_places=2, localize=True)
    costs_reason = forms.CharField(label=_("Begründung, falls die Kosten von der Gebührenordnung abweichen"),
                                   required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2}))
    contract_start = forms.DateField(label=_("Vertragsbeginn"), widget=DATE)
    contract_end = forms.DateField(label=_("Vertragsende"), widget=DATE)
    deadline = forms.DateField(label=_("Frist für das unterschriebene Angebot"), widget=DATE)

    def clean(self):
        cleaned = super().clean()
        start, end, deadline = cleaned.get("contract_start"), cleaned.get("contract_end"), cleaned.get("deadline")
        if start and end and end < start:
            self.add_error("contract_end", _("Das Vertragsende darf nicht vor dem Beginn liegen."))
        if deadline and deadline < timezone.localdate():
            self.add_error("deadline", _("Die Frist darf nicht in der Vergangenheit liegen."))
        return cleaned


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Grund (erscheint in der Mail)"), max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 3}))


class ReopenForm(forms.Form):
    reason = forms.CharField(label=_("Grund (erscheint in der Mail)"), max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 3}),
                             error_messages={"required": _("Bitte geben Sie einen Grund an.")})
    deadline = forms.DateField(label=_("Neue Frist für das unterschriebene Angebot"), widget=DATE, required=False,
                               help_text=_("Nur bei einem abgelaufenen Angebot: bis wann das unterschriebene "
                                           "Angebot hinterlegt sein muss."))

    def for_enrollment(self, enrollment) -> None:
        if enrollment.status != "abgelaufen":
            del self.fields["deadline"]  # a rejection reopens to Bewerber: no deadline to set
        else:
            self.fields["deadline"].required = True
            self.fields["deadline"].error_messages["required"] = _("Bitte geben Sie eine neue Frist an.")

    def clean_deadline(self):
        value = self.cleaned_data.get("deadline")
        if value and value < timezone.localdate():
            raise forms.ValidationError(_("Die Frist darf nicht in der Vergangenheit liegen."))
        return value


class ExtendDeadlineForm(forms.Form):
    which = forms.ChoiceField(label=_("Frist"), choices=DeadlineKind.choices, widget=forms.RadioSelect)
    deadline = forms.DateField(label=_("Neue Frist"), widget=DATE)
    reason = forms.CharField(label=_("Grund (erscheint in der Mail)"), max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 3}),
                             error_messages={"required": _("Bitte geben Sie einen Grund an.")})

    def for_enrollment(self, enrollment, kinds=None) -> None:
        """Only the deadlines this enrollment has, each with its current date."""
        current = {DeadlineKind.OFFER: enrollment.signed_copy_deadline, DeadlineKind.PROOF: enrollment.proof_deadline,
                   DeadlineKind.CARE: enrollment.care_deadline_effective}
        choices = []
        for value, label in DeadlineKind.choices:
            if kinds is None or value in kinds:
                date = current[value]
                choices.append((value, f"{label} ({_('bisher')} {format_date(date)})" if date else label))
        self.fields["which"].choices = choices
        if len(choices) == 1:
            self.fields["which"].initial = choices[0][0]

    def clean_deadline(self):
        value = self.cleaned_data["deadline"]
        if value < timezone.localdate():
            raise forms.ValidationError(_("Die Frist darf nicht in der Vergangenheit liegen."))
        return value


class ConfirmForm(forms.Form):
    confirm = forms.BooleanField(label=_("Ich habe die Unterlagen geprüft."),
                                 error_messages={"required": _("Bitte bestätigen Sie die Prüfung.")})


class RetryDocumentsForm(forms.Form):
    """Erneut erstellen: nothing to enter; the POST (with its CSRF token) is the confirmation."""


# WorkPro's own signature fields (services/signatures.py): not the participant's signature.
WORKPRO_SIGNATURE_FIELDS = ("WorkPro-Angebot", "WorkPro-Gegenzeichnung")


class RatifyForm(ConfirmForm):
    """Ratifizieren: a digitally signed upload says who signed it; for a scan or photo, staff confirm
    each signature the contract needs (participant, or for a minor each Personensorgeberechtigte)."""

    def for_enrollment(self, enrollment) -> None:
        upload = (enrollment.documents.filter(kind="signed_contract", superseded=False)
                  .order_by("-deposited_at").first())
        signed = [s for s in (upload.signature_summaries if upload else [])
                  if not str(s.get("field", "")).startswith(WORKPRO_SIGNATURE_FIELDS)
                  and s.get("intact") and s.get("valid")]
        self.digital_signers = [s["who"] for s in signed]
        if self.digital_signers:
            self.fields["confirm"].help_text = _(
                "Das hochgeladene Angebot trägt eine gültige digitale Unterschrift von %(who)s.") % {
                "who": ", ".join(self.digital_signers)}
            return
        participant = enrollment.participant
        needed = []
        if participant is not None and participant.is_minor:
            for link in participant.guardianships.select_related("guardian").order_by("-is_primary", "pk"):
                needed.append(link.guardian.full_name)
        if not needed and participant is not None:
            needed.append(participant.full_name)
        for position, name in enumerate(needed):
            self.fields[f"signature_{position}"] = forms.BooleanField(
                label=_("Unterschrift von %(name)s ist vorhanden.") % {"name": name},
                error_messages={"required": _("Bitte prüfen Sie die Unterschrift von %(name)s: ohne sie kann der "
                                              "Vertrag nicht ratifiziert werden.") % {"name": name}})
        self.fields["confirm"].help_text = _(
            "Das hochgeladene Angebot ist ein Scan oder Foto ohne digitale Unterschrift: bestätigen Sie jede "
            "nötige Unterschrift einzeln.")


def default_time() -> time:
    return time(10, 0)


# --- add-on bookings: the staff decisions ---------------------------------------------------


class AddonConfirmForm(forms.Form):
    cost = forms.DecimalField(label=_("Kosten (€)"), min_value=0, max_digits=10, decimal_places=2, localize=True,
                              required=False,
                              help_text=_("Vorgegeben aus der Gebührenordnung des Zusatzangebots."))
    cost_reason = forms.CharField(label=_("Begründung, falls die Kosten von der Gebührenordnung abweichen"),
                                  required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2}))


class AddonDeclineForm(forms.Form):
    reason = forms.CharField(label=_("Grund (erscheint in der Mail)"), max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 3}),
                             error_messages={"required": _("Bitte geben Sie einen Grund an.")})


# --- chat: hiding with a reason, assignment, the inbox filter ----------------------------------


class HideMessageForm(forms.Form):
    reason = forms.CharField(label=_("Grund"), max_length=1000, strip=True,
                             widget=forms.Textarea(attrs={"rows": 3}),
                             help_text=_("Wird protokolliert. Die Teilnehmer sehen nur, dass die Nachricht "
                                         "ausgeblendet wurde."),
                             error_messages={"required": _("Bitte geben Sie einen Grund an.")})


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(label=_("Zuweisen an"), queryset=None, required=False,
                                      empty_label=_("– niemand –"))

    def __init__(self, *args, staff=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = staff
        self.fields["assignee"].label_from_instance = lambda user: user.get_full_name() or user.email


class InboxFilterForm(forms.Form):
    STATUS = [("", _("alle")), ("unbeantwortet", _("unbeantwortet")), ("beantwortet", _("beantwortet"))]
    ASSIGNED = [("", _("alle")), ("mir", _("mir zugewiesen")), ("niemand", _("niemandem zugewiesen"))]

    angebot = forms.TypedChoiceField(label=_("Angebot"), required=False, coerce=int, empty_value=None)
    status = forms.ChoiceField(label=_("Status"), required=False, choices=STATUS)
    zugewiesen = forms.ChoiceField(label=_("Zuweisung"), required=False, choices=ASSIGNED)
    ungelesen = forms.BooleanField(label=_("nur mit ungelesenen Nachrichten"), required=False)

    def __init__(self, *args, offers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["angebot"].choices = [("", _("alle Angebote")), *offers]


# --- help a person: contact data, a new password ------------------------------------------------

REASON_REQUIRED = {"required": _("Bitte geben Sie einen Grund an.")}


class PersonContactForm(forms.Form):
    """Kontaktdaten korrigieren: a new mail address of an account is only proposed to its owner."""

    street = forms.CharField(label=_("Straße und Hausnummer"), max_length=200, required=False)
    postcode = forms.RegexField(label=_("PLZ"), regex=r"^[0-9]{5}\Z", max_length=5, required=False,
                                error_messages={"invalid": _("Bitte eine fünfstellige Postleitzahl eingeben.")})
    city = forms.CharField(label=_("Ort"), max_length=100, required=False)
    mobile = forms.CharField(label=_("Handynummer"), max_length=40, required=False,
                             help_text=_("Die Person erhält eine Mail über die Änderung."))
    email = forms.EmailField(label=_("Mailadresse"), max_length=254, required=False,
                             help_text=_("Eine neue Adresse gilt erst, wenn die Person sie über den Link in der "
                                         "Mail an die neue Adresse bestätigt hat."),
                             error_messages={"invalid": _("Bitte eine gültige Mailadresse eingeben.")})
    reason = forms.CharField(label=_("Grund"), max_length=1000, widget=forms.Textarea(attrs={"rows": 2}),
                             help_text=_("Wird im Protokoll gespeichert."), error_messages=REASON_REQUIRED)

    def clean_email(self):
        return self.cleaned_data["email"].strip().lower()

    def clean_mobile(self):
        value = self.cleaned_data["mobile"].strip()
        return normalize_phone(value, mobile=True) if value else ""


class PasswordSendForm(forms.Form):
    """Neues Passwort senden: only to a channel already stored, after checking the person's identity."""

    channel = forms.ChoiceField(label=_("Senden an"), widget=forms.RadioSelect,
                                error_messages={"required": _("Bitte wählen Sie, wohin das Passwort gesendet wird.")})
    identity_check = forms.ChoiceField(
        label=_("Identität geprüft"), widget=forms.RadioSelect,
        choices=[(IdentityCheck.IN_PERSON, _("persönlich (Ausweis vorgelegt)")),
                 (IdentityCheck.PHONE, _("telefonisch (Rückruf unter bekannter Nummer, Daten abgefragt)"))],
        error_messages={"required": _("Bitte bestätigen Sie, wie Sie die Identität geprüft haben.")})
    reason = forms.CharField(label=_("Grund"), max_length=1000, widget=forms.Textarea(attrs={"rows": 2}),
                             help_text=_("Wird im Protokoll gespeichert."), error_messages=REASON_REQUIRED)

    def __init__(self, *args, person=None, **kwargs):
        super().__init__(*args, **kwargs)
        user = person.user if person is not None and person.user_id else None
        mobile = person.mobile[-4:] if person is not None and person.mobile else ""
        self.fields["channel"].choices = [
            (Channel.SMS, _("SMS an die hinterlegte Handynummer (endet auf %(end)s)") % {"end": mobile}
             if mobile else _("SMS (keine Handynummer hinterlegt)")),
            (Channel.MAIL, _("Mail an %(email)s") % {"email": user.email}
             if user is not None and user.email else _("Mail (keine Mailadresse hinterlegt)")),
        ]


class BroadcastForm(forms.Form):
    """Rundnachricht: to the families of an offer, optionally of one status (or group), of the user's
    institutions; subject and text become one chat message."""

    angebot = ModelChoiceField(label=_("Angebot"), queryset=None,
                               error_messages={"required": _("Bitte wählen Sie ein Angebot.")})
    status = forms.ChoiceField(label=_("Status"), required=False)
    gruppe = forms.ChoiceField(label=_("Gruppe"), required=False)
    betreff = forms.CharField(label=_("Betreff"), max_length=200, required=False)
    text = forms.CharField(label=_("Nachricht"), max_length=MAX_BODY_LENGTH, required=False,
                           widget=forms.Textarea(attrs={"rows": 8}),
                           help_text=_("Platzhalter: {vorname}, {name}, {angebot}, {einrichtung}."))
    textbaustein = forms.TypedChoiceField(label=_("Textbaustein anhängen"), required=False, coerce=int,
                                          empty_value=None)

    def __init__(self, *args, user=None, canned=(), **kwargs):
        super().__init__(*args, **kwargs)
        institutions = list(chat_staff_institutions(user).select_related("site__root_page"))
        self.fields["angebot"].queryset = institution_offers(institutions).filter(is_addon=False)
        self.fields["angebot"].label_from_instance = lambda offer: offer.title
        self.fields["status"].choices = [("", _("alle")), *Enrollment.Status.choices]
        if BROADCAST_GROUPS:
            self.fields["gruppe"].choices = [("", _("alle")), *((k, v[0]) for k, v in BROADCAST_GROUPS.items())]
        else:
            del self.fields["gruppe"]
        self.canned = {reply.pk: reply for reply in canned}
        self.fields["textbaustein"].choices = [("", _("keiner")), *((pk, r.title) for pk, r in self.canned.items())]

    def clean(self):
        cleaned = super().clean()
        parts = [cleaned.get("betreff", "").strip(), cleaned.get("text", "").strip()]
        if cleaned.get("textbaustein"):
            parts.append(self.canned[cleaned["textbaustein"]].body.strip())
        body = "\n\n".join(part for part in parts if part)
        if not self.errors and not body:
            self.add_error("text", _("Bitte schreiben Sie eine Nachricht."))
        elif len(body) > MAX_BODY_LENGTH:
            self.add_error("text", _("Eine Nachricht darf höchstens %(max)s Zeichen lang sein.") % {"max": MAX_BODY_LENGTH})
        cleaned["body"] = body
        return cleaned


# --- edit forms of the modeladmin and snippet views ------------------------------------------


class AppForm(WagtailAdminModelForm):
    """Staff choose among their own institutions only."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields.get("institution")
        if field is not None and self.for_user is not None:
            field.queryset = manageable_institutions(self.for_user)


class CannedReplyForm(WagtailAdminModelForm):
    """Staff choose among the institutions they answer messages for, and those institutions' offers."""

    class Meta:
        # An offer id beyond 64 bits is an invalid choice, not a 500 (the key is page_ptr, see form_fields).
        field_classes = {"offer": ModelChoiceField, "institution": ModelChoiceField}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.for_user is None:
            return
        institutions = list(chat_staff_institutions(self.for_user).select_related("site__root_page"))
        if "institution" in self.fields:
            self.fields["institution"].queryset = chat_staff_institutions(self.for_user)
            if len(institutions) == 1:
                self.fields["institution"].empty_label = None
        if "offer" in self.fields:
            field = self.fields["offer"]
            field.queryset = institution_offers(institutions)
            field.empty_label = _("alle Angebote der Einrichtung")
            if len(institutions) > 1:  # the same offer title can exist at several institutions
                names = [(i.site.root_page.path, i.name) for i in institutions]
                field.label_from_instance = lambda offer: next(
                    (f"{offer.title} ({name})" for path, name in names if offer.path.startswith(path)), offer.title)
            else:
                field.label_from_instance = lambda offer: offer.title


class FeeScheduleForm(WagtailAdminModelForm):
    """Refuses overlapping or gapped brackets and brackets above the maximum rate."""

    def clean(self):
        cleaned = super().clean()
        formset = self.formsets.get("brackets")
        if formset is None or not formset.is_valid():
            return cleaned
        forms = [
            form for form in formset.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        brackets = [
            Bracket(
                income_from=form.cleaned_data["income_from"],
                income_to=form.cleaned_data.get("income_to"),
                amount=form.cleaned_data["amount"],
                subsidy=form.cleaned_data.get("subsidy"),
            )
            for form in forms
        ]
        for index, message in bracket_errors(brackets, cleaned.get("maximum_rate")):
            forms[index].add_error(None, message)
        if any(form.errors for form in forms):
            self.add_error(None, _("Bitte korrigieren Sie die Einkommensstufen."))
        return cleaned
