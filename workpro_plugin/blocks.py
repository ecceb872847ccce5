"""StreamField blocks of offer pages."""

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
