from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel
from wagtail.coreutils import resolve_model_string
from wagtail.fields import RichTextField
from wagtail.models import Page, get_page_models
from wagtail.search import index

from .. import conf
from ..lib.help_text import DEFAULT_HELP_HTML


def default_help_html() -> str:
    return DEFAULT_HELP_HTML


def index_parent_page_types() -> list[str] | None:
    """The page types under which the offer index and the help page may be created.

    `settings.WORKPRO_INDEX_PARENT_PAGE_TYPES`, e.g. `["home.HomePage"]`; unset or None means
    any page type, so a host whose homepage lives in another app (`base`, `website`, ...)
    needs no configuration.
    """
    return conf.get("INDEX_PARENT_PAGE_TYPES")


class HostParentPageMixin:
    """Parent page types from the host's settings instead of a hard-coded `home.HomePage`.

    Read on every call (Wagtail caches its own `parent_page_types` per class), so
    `override_settings` works and nothing about it reaches the migrations.
    """

    @classmethod
    def clean_parent_page_models(cls):
        names = index_parent_page_types()
        if names is None:
            return get_page_models()
        parents = [resolve_model_string(name, cls._meta.app_label) for name in names]
        for model in parents:
            if not issubclass(model, cls.base_page_model):
                raise LookupError(f"{model} is not a Page subclass")
        return parents


class HelpPage(HostParentPageMixin, Page):
    """The usage hints behind the red "i" button; one per institution site."""

    body = RichTextField(_("Text"), default=default_help_html)

    content_panels = Page.content_panels + [FieldPanel("body")]
    search_fields = Page.search_fields + [index.SearchField("body")]

    subpage_types: list[str] = []
    max_count_per_parent = 1

    class Meta:
        verbose_name = _("Hilfeseite")
        verbose_name_plural = _("Hilfeseiten")
