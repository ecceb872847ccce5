"""Keep cached public content (header data, offer listings) in step with the database."""

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.core.exceptions import ObjectDoesNotExist
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.utils.translation import gettext_lazy
from wagtail.documents import get_document_model
from wagtail.images import get_image_model
from wagtail.models import COMMENTS_RELATION_NAME, Page, PageViewRestriction, Site
from wagtail.signals import page_published, page_slug_changed, page_unpublished, post_page_move

from .lib import hosts
from .lib.content_cache import invalidate_offers, invalidate_public_content
from .models import (
    AgeGroup,
    Criterion,
    Enrollment,
    FeeBracket,
    FeeSchedule,
    Institution,
    OfferCategory,
    OfferPage,
    OfferSection,
    Operator,
)
from .selectors.allocation import waiting_enrollments
from .selectors.chat import register_broadcast_group
from .services import allocation, audit, institutions
from .services.enrollments import place_freed
from .services.offers import places_moved, schedule_offer_listings_warm


def _invalidate(**kwargs):
    invalidate_public_content()


def _invalidate_page(sender, instance=None, **kwargs):
    """A page published, unpublished or renamed: only its site's content (an offer: its offers')."""
    _invalidate_one(instance)


def _invalidate_one(instance) -> None:
    """Only what can show `instance`: an enrollment the places, an offer or what only offers show the
    offers (the header stays), anything else the whole site's content."""
    if isinstance(instance, Enrollment):
        places_moved(_site_id(instance))
        return
    site_id = _site_id(instance)
    if isinstance(instance, _offer_models()):
        invalidate_offers(site_id)
    else:
        invalidate_public_content(site_id)
    schedule_offer_listings_warm(site_id)  # the editor's request rebuilds what the next visitor would


def _invalidate_m2m(sender, instance, action, **kwargs):
    """A many-to-many change of what a public page shows (an add-on's offers): that site's content. Other
    ones (a user's groups, a Vergaberunde's offers) show on no public page and leave every site warm."""
    if action.startswith("post_") and isinstance(instance, _watched_models()):
        _invalidate_one(instance)


# What Wagtail's save_revision writes to the page row: the draft's bookkeeping, shown on no public page.
_DRAFT_BOOKKEEPING = frozenset({COMMENTS_RELATION_NAME, "latest_revision_created_at", "draft_title",
                                "latest_revision", "has_unpublished_changes"})


def _invalidate_for_models(sender, instance, update_fields=None, **kwargs):
    # post_save is sent with the concrete class (e.g. OfferPage), so match by isinstance.
    if not isinstance(instance, _watched_models()):
        return
    if isinstance(instance, Page) and update_fields and set(update_fields) <= _DRAFT_BOOKKEEPING:
        return  # a draft saved: the live page, and what lists it, did not change
    _invalidate_one(instance)


# Lazy bookkeeping Wagtail saves on first use of a file; it changes nothing a page shows.
_MEDIA_BOOKKEEPING = frozenset({"file_size", "file_hash"})


def _invalidate_media(sender, instance=None, update_fields=None, raw=False, **kwargs):
    """An image or document saved or deleted: cached bodies and cards show its renditions, alt text and
    file URL. Images and documents are shared between sites (collections), so every site's content."""
    if raw or (update_fields and set(update_fields) <= _MEDIA_BOOKKEEPING):
        return
    invalidate_public_content()


def _institution_site_id(institution_id) -> int | None:
    if institution_id is None:
        return None
    return Institution.objects.filter(pk=institution_id).values_list("site_id", flat=True).first()


def _site_id(instance) -> int | None:
    """The site whose public content `instance` belongs to; None (every site's) when it cannot be told."""
    try:
        if isinstance(instance, Page):
            site = instance.get_site()
            return site.pk if site else None
        if isinstance(instance, Enrollment):
            if Enrollment.institution.is_cached(instance):
                return instance.institution.site_id if instance.institution else None
            return _institution_site_id(instance.institution_id)
        if isinstance(instance, (FeeSchedule, OfferCategory, AgeGroup, Criterion)):  # shared ones: every site's
            return _institution_site_id(instance.institution_id)
        if isinstance(instance, FeeBracket):
            return _institution_site_id(instance.schedule.institution_id)
        if isinstance(instance, (OfferSection, PageViewRestriction)):
            return _site_id(instance.page)
    except (AttributeError, ObjectDoesNotExist):
        return None
    return None  # Site, Institution (may move between sites): every site's


def _offer_models() -> tuple[type, ...]:
    return (OfferPage, FeeSchedule, FeeBracket, OfferSection, OfferCategory, AgeGroup, Criterion)


def _watched_models() -> tuple[type, ...]:
    # Criterion: the Kriterienkatalog is shown on the (cached) offer detail page. PageViewRestriction:
    # Wagtail's "Privatsphäre" saves no page, and listings must drop a page made private at once.
    return (Page, Site, Institution, Enrollment, FeeSchedule, FeeBracket, OfferSection, OfferCategory, AgeGroup,
            Criterion, PageViewRestriction)


def connect() -> None:
    # ALLOWED_HOSTS = SiteHosts(...): a saved or deleted Site changes the allowed host names.
    post_save.connect(hosts.invalidate, sender=Site, dispatch_uid="workpro-site-hosts-save")
    post_delete.connect(hosts.invalidate, sender=Site, dispatch_uid="workpro-site-hosts-delete")
    for signal in (page_published, page_unpublished, page_slug_changed):
        signal.connect(_invalidate_page, dispatch_uid=f"workpro-content-{signal!r}")
    post_page_move.connect(_invalidate, dispatch_uid=f"workpro-content-{post_page_move!r}")  # may change site
    post_save.connect(_invalidate_for_models, dispatch_uid="workpro-content-save")
    post_delete.connect(_invalidate_for_models, dispatch_uid="workpro-content-delete")
    m2m_changed.connect(_invalidate_m2m, dispatch_uid="workpro-content-m2m")
    for model in (get_image_model(), get_document_model()):
        post_save.connect(_invalidate_media, sender=model, dispatch_uid=f"workpro-media-save-{model._meta.label}")
        post_delete.connect(_invalidate_media, sender=model, dispatch_uid=f"workpro-media-delete-{model._meta.label}")


def _institution_created(sender, instance, created, raw=False, **kwargs):
    """A new institution (from the admin, a script or the demo) gets its groups and collection."""
    if created and not raw:
        institutions.institution_set_up(institution=instance)


def _operator_created(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        institutions.ensure_operator_group(instance)


def connect_institutions() -> None:
    post_save.connect(_institution_created, sender=Institution, dispatch_uid="workpro-institution-created")
    post_save.connect(_operator_created, sender=Operator, dispatch_uid="workpro-operator-created")


def connect_audit() -> None:
    """Logins, failed logins, logouts and django-axes lockouts go to the audit log."""

    user_logged_in.connect(audit.on_logged_in, dispatch_uid="workpro-audit-login")
    user_logged_out.connect(audit.on_logged_out, dispatch_uid="workpro-audit-logout")
    user_login_failed.connect(audit.on_login_failed, dispatch_uid="workpro-audit-login-failed")
    user_locked_out.connect(audit.on_locked_out, dispatch_uid="workpro-audit-locked-out")


def _place_freed(sender, offer_id, **kwargs):
    """Nachrücken: a freed place goes to the next child on the offer's waiting list."""
    allocation.fill_freed_places(offer_id)


def connect_allocation() -> None:
    place_freed.connect(_place_freed, dispatch_uid="workpro-place-freed")
    register_broadcast_group("warteliste", gettext_lazy("Warteliste (nach der Platzvergabe)"), waiting_enrollments)
