from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel
from wagtail.fields import RichTextField
from wagtail.models import Page
from wagtail.search import index

from ..lib.help_text import DEFAULT_HELP_HTML


def default_help_html() -> str:
    return DEFAULT_HELP_HTML


class HelpPage(Page):
    """The usage hints behind the red "i" button; one per institution site."""

    body = RichTextField(_("Text"), default=default_help_html)

    content_panels = Page.content_panels + [FieldPanel("body")]
    search_fields = Page.search_fields + [index.SearchField("body")]

    parent_page_types = ["home.HomePage"]
    subpage_types: list[str] = []
    max_count_per_parent = 1

    class Meta:
        verbose_name = _("Hilfeseite")
        verbose_name_plural = _("Hilfeseiten")
