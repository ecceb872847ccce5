"""Chat forms both faces use: the message composer, Textbaustein einfügen, a correction."""

from django import forms
from django.utils.translation import gettext_lazy as _

from ..models.chat import MAX_BODY_LENGTH


class MessageForm(forms.Form):
    """Text, an attachment, or both. The attachment is checked by content in the service."""

    body = forms.CharField(label=_("Ihre Nachricht"), required=False, max_length=MAX_BODY_LENGTH, strip=True,
                           widget=forms.Textarea(attrs={"rows": 4}))
    attachment = forms.FileField(label=_("Anhang (optional)"), required=False,
                                 help_text=_("PDF, JPEG oder PNG, höchstens 20 MB."),
                                 widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}))

    def clean(self):
        data = super().clean()
        if not data.get("body") and not data.get("attachment") and not self.errors:
            self.add_error("body", _("Bitte schreiben Sie eine Nachricht oder wählen Sie einen Anhang."))
        return data


class CannedReplyPickForm(forms.Form):
    """Textbaustein einfügen without JavaScript: the chosen text (placeholders filled) is appended to what
    was typed, and the composer is shown again; nothing is sent."""

    textbaustein = forms.TypedChoiceField(
        label=_("Textbaustein einfügen"), coerce=int,
        error_messages={"required": _("Bitte wählen Sie einen Textbaustein."),
                        "invalid_choice": _("Dieser Textbaustein ist nicht verfügbar.")})

    def __init__(self, *args, choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.canned = list(choices)
        self.fields["textbaustein"].choices = [("", _("– bitte wählen –")), *((c.pk, c.title) for c in self.canned)]

    def appended_to(self, typed: str) -> str:
        """`typed` with the chosen text after a blank line (only the text when nothing was typed)."""
        text = next(c.text for c in self.canned if c.pk == self.cleaned_data["textbaustein"])
        typed = (typed or "").rstrip()
        return f"{typed}\n\n{text}" if typed else text


def canned_pick_form(choices) -> CannedReplyPickForm | None:
    """The Textbaustein select of a reply form; None when there is no Textbaustein to offer."""
    return CannedReplyPickForm(choices=choices) if choices else None


class EditMessageForm(forms.Form):
    body = forms.CharField(label=_("Nachricht"), max_length=MAX_BODY_LENGTH, strip=True,
                           widget=forms.Textarea(attrs={"rows": 4}),
                           error_messages={"required": _("Bitte schreiben Sie eine Nachricht.")})
