from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.admin.panels import FieldPanel
from wagtail.fields import RichTextField, StreamField
from wagtail.images.blocks import ImageBlock
from wagtail.models import Page
from wagtail.search import index


class HomePage(Page):
    """An institution's homepage: the root page of its Wagtail Site."""

    intro = RichTextField(_("Einleitung"), blank=True)
    hero_image = models.ForeignKey(
        "wagtailimages.Image",
        verbose_name=_("Titelbild"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    body = StreamField(
        [
            ("heading", blocks.CharBlock(label=_("Überschrift"), form_classname="title")),
            ("paragraph", blocks.RichTextBlock(label=_("Absatz"))),
            ("image", ImageBlock(label=_("Bild"))),
        ],
        verbose_name=_("Inhalt"),
        blank=True,
    )

    content_panels = Page.content_panels + [
        FieldPanel("intro"),
        FieldPanel("hero_image"),
        FieldPanel("body"),
    ]
    search_fields = Page.search_fields + [index.SearchField("intro"), index.SearchField("body")]

    parent_page_types = ["wagtailcore.Page"]

    class Meta:
        verbose_name = _("Startseite der Einrichtung")
        verbose_name_plural = _("Startseiten der Einrichtungen")
