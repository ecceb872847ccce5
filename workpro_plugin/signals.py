"""Keep cached header data (site_nav) in step with the page tree and institutions."""

from django.db.models.signals import post_delete, post_save
from wagtail.signals import page_published, page_slug_changed, page_unpublished, post_page_move

from .selectors import invalidate_site_nav


def _invalidate(**kwargs):
    invalidate_site_nav()


def connect() -> None:
    from wagtail.models import Page, Site

    from .models import Institution

    for signal in (page_published, page_unpublished, post_page_move, page_slug_changed):
        signal.connect(_invalidate, dispatch_uid=f"workpro-nav-{signal!r}")
    for model in (Institution, Site, Page):
        post_save.connect(_invalidate, sender=model, dispatch_uid=f"workpro-nav-save-{model.__name__}")
        post_delete.connect(_invalidate, sender=model, dispatch_uid=f"workpro-nav-del-{model.__name__}")
