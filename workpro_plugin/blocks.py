"""StreamField blocks of offer pages."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.documents.blocks import DocumentChooserBlock
from wagtail.images.blocks import ImageBlock


class FactBlock(blocks.StructBlock):
    label = blocks.CharBlock(label=_("Merkmal"), max_length=80)
    value = blocks.CharBlock(label=_("Wert"), max_length=200)


class FactsTableBlock(blocks.StructBlock):
    heading = blocks.CharBlock(label=_("Überschrift"), required=False, max_length=120)
    facts = blocks.ListBlock(FactBlock(), label=_("Zeilen"), min_num=1)

    class Meta:
        icon = "table"
        label = _("Eckdaten-Tabelle")
        template = "workpro_plugin/blocks/facts_table.html"


class DownloadsBlock(blocks.StructBlock):
    heading = blocks.CharBlock(label=_("Überschrift"), required=False, max_length=120)
    documents = blocks.ListBlock(DocumentChooserBlock(label=_("Dokument")), label=_("Dokumente"), min_num=1)

    class Meta:
        icon = "doc-full"
        label = _("Downloads")
        template = "workpro_plugin/blocks/downloads.html"


class FaqItemBlock(blocks.StructBlock):
    question = blocks.CharBlock(label=_("Frage"), max_length=200)
    answer = blocks.RichTextBlock(label=_("Antwort"), features=["bold", "italic", "link", "ul", "ol"])


class FaqBlock(blocks.StructBlock):
    heading = blocks.CharBlock(label=_("Überschrift"), required=False, default=_("Häufige Fragen"))
    items = blocks.ListBlock(FaqItemBlock(), label=_("Fragen"), min_num=1)

    class Meta:
        icon = "help"
        label = _("Häufige Fragen (FAQ)")
        template = "workpro_plugin/blocks/faq.html"


class OfferBodyBlock(blocks.StreamBlock):
    text = blocks.RichTextBlock(label=_("Text"), features=["h2", "h3", "bold", "italic", "link", "ul", "ol"])
    image = ImageBlock(label=_("Bild"))
    facts = FactsTableBlock()
    downloads = DownloadsBlock()
    faq = FaqBlock()


# --- the offer's own questions of the application ------------------------------------------------

QUESTION_PHASES = [("1", _("Bewerber (bei der Anmeldung)")), ("2", _("Kandidat (nach dem Gespräch)"))]


class QuestionBlock(blocks.StructBlock):
    """One question of the application; its block id is the key of the answer."""

    label = blocks.CharBlock(label=_("Frage"), max_length=200)
    help_text = blocks.CharBlock(label=_("Hilfetext"), required=False, max_length=300)
    required = blocks.BooleanBlock(label=_("Pflichtangabe"), required=False, default=True)
    phase = blocks.ChoiceBlock(label=_("Gefragt als"), choices=QUESTION_PHASES, default="1")

    class Meta:
        icon = "help"
        form_classname = "struct-block workpro-question"


class ChoiceQuestionBlock(QuestionBlock):
    choices = blocks.TextBlock(label=_("Auswahlmöglichkeiten"), help_text=_("Eine Möglichkeit pro Zeile."))

    def clean(self, value):
        value = super().clean(value)
        options = [line.strip() for line in (value.get("choices") or "").splitlines() if line.strip()]
        if len(options) < 2:
            raise blocks.StructBlockValidationError(block_errors={"choices": ValidationError(
                _("Bitte mindestens zwei Möglichkeiten angeben, eine pro Zeile."))})
        if len(set(options)) != len(options):
            raise blocks.StructBlockValidationError(block_errors={"choices": ValidationError(
                _("Jede Möglichkeit darf nur einmal vorkommen."))})
        return value


class OfferQuestionsBlock(blocks.StreamBlock):
    """The field types an editor can ask; the keys are stored with every answer (lib.questions)."""

    short_text = QuestionBlock(label=_("Kurzer Text"), icon="pilcrow")
    long_text = QuestionBlock(label=_("Langer Text"), icon="doc-full")
    number = QuestionBlock(label=_("Zahl"), icon="order")
    date = QuestionBlock(label=_("Datum"), icon="date")
    yes_no = QuestionBlock(label=_("Ja/Nein"), icon="tick")
    choice = ChoiceQuestionBlock(label=_("Auswahl"), icon="list-ul")
    multiple_choice = ChoiceQuestionBlock(label=_("Mehrfachauswahl"), icon="list-ol")
    file = QuestionBlock(label=_("Datei hochladen"), icon="upload")

    class Meta:
        max_num = 30
