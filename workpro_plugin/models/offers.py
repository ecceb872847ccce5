from __future__ import annotations

import datetime
import functools
import hashlib
import json
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import filterfalse, islice
from typing import NamedTuple

from django import forms
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Count, F, Max, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.http import QueryDict
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.functional import SimpleLazyObject, cached_property
from django.utils.html import _json_script_escapes, strip_tags
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalKey, ParentalManyToManyField
from wagtail.admin.forms import WagtailAdminPageForm
from wagtail.admin.panels import FieldPanel, FieldRowPanel, InlinePanel, MultiFieldPanel
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Orderable, Page, PageManager, Site
from wagtail.query import PageQuerySet
from wagtail.search import index

from ..blocks import OfferBodyBlock, OfferQuestionsBlock
from ..lib.choices import (
    ApplicationSection,
    SchemaType,
    SectionPhase,
    holds_place,
)
from ..lib.compiled_sql import CompiledQuery
from ..lib.content_cache import content_generation, structure_generation
from ..lib.form_fields import ModelChoiceField
from ..lib.questions import QUESTION_SECTIONS, definitions_of, section_for_phase
from ..lib.sections import optional_question_choices
from .allocation import Criterion
from .fees import FeeSchedule
from .institutions import Institution
from .offer_taxonomy import AgeGroup, OfferCategory
from .page_forms import OfferFilterForm, RegistrationForm, filter_choices
from .pages import HostParentPageMixin
from .texts import TERM_FEATURES


@dataclass(frozen=True)
class RegistrationState:
    """Whether visitors can register for an offer now, and if not, why."""

    is_open: bool
    reason: str = ""


class OfferIndexPage(HostParentPageMixin, Page):
    """The institution's offers, the target of the "Angebote" button."""

    intro = RichTextField(_("Einleitung"), blank=True)
    per_page = models.PositiveSmallIntegerField(
        _("Angebote pro Seite"), default=12, validators=[MaxValueValidator(100)]
    )

    content_panels = Page.content_panels + [FieldPanel("intro")]
    settings_panels = Page.settings_panels + [FieldPanel("per_page")]

    subpage_types = ["workpro_plugin.OfferPage"]
    max_count_per_parent = 1

    class Meta:
        verbose_name = _("Angebotsübersicht")
        verbose_name_plural = _("Angebotsübersichten")

    def offers(self):
        return self._children(OfferPage.objects)

    def _children(self, pages, private_q=None):
        """The live, public children of this index in `pages` (a PageQuerySet of any page model).

        Besides Wagtail's `child_of` (path LIKE 'prefix%'), the path is bounded by the first and
        last step treebeard can give a child: SQLite does not use the path index for LIKE, the range
        it does (without it every listing query scans the whole page table of all sites)."""
        children = pages.live().child_of(self).filter(self._child_paths())
        return children.exclude(private_q) if private_q is not None else children.public()

    def _child_paths(self, prefix: str = "") -> Q:
        """The paths a child of this page can have (a range the path index serves); `prefix` for a
        relation to pages, e.g. "offer__"."""
        low, high = (self.path + char * self.steplen for char in (self.alphabet[0], self.alphabet[-1]))
        return Q(**{f"{prefix}path__gte": low, f"{prefix}path__lte": high, f"{prefix}depth": self.depth + 1})

    def route(self, request, path_components):
        """An offer in one query with its category, where Wagtail's route reads the generic page row
        and then the specific one (the detail page shows the category)."""
        if not path_components:
            return super().route(request, path_components)
        try:
            subpage = OfferPage.objects.child_of(self).select_related("category").get(slug=path_components[0])
        except OfferPage.DoesNotExist:
            return super().route(request, path_components)  # a child of another type (or Http404)
        subpage._cached_parent_obj = self
        if subpage.specific_class is not type(subpage):  # a subclass of OfferPage: its own row
            subpage = subpage.specific
        return subpage.route(request, path_components[1:])

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        # Built lazily: a cached listing fragment needs none of its queries.
        context["listing"] = SimpleLazyObject(lambda: self.listing(request))
        site = self._site(request)
        context["listing_cache_key"] = listing_cache_key(request, site.pk if site else None)
        return context

    def _site(self, request):
        """The request's site, which Wagtail looked up (cached on the request) to serve this page;
        `get_site` would query it again."""
        return Site.find_for_request(request) or self.get_site()

    def listing(self, request) -> dict:
        """The filtered, paginated offers of this index for one request.

        What does not depend on taken places (the count, the order and the page's offers with the columns
        a card shows) is kept as a skeleton under the site's structure generation, so an enrollment (a
        registration day has thousands) costs a listing one query: the taken places of the page's
        offers. Filtered by free places, the skeleton keeps the ordered ids of the offers that pass the
        other filters (none without any place); which of them have a free place is decided per request from the
        index's kept count of taken places (`taken_places`, counted again by the writer after an
        enrollment or a change), and the page's cards are read by id.

        Unfiltered, every page reads one cached order of the index's offers (ids); a page's cards are
        read by id. After a change the writer builds the first page and the order in every language
        (services.offers), so the next visitor reads only the places. Built by a visitor, this runs in a
        constant number of queries whatever the number of offers, and none of them groups or annotates
        every offer: the ordered ids, the page's cards and the taken places of that page's offers."""
        site = self._site(request)
        params = request.GET
        skeleton, form = self._cached_skeleton(params, site)
        if "candidates" in skeleton:
            paginator, page_obj = self._free_places_page(skeleton["candidates"], params, site)
        else:
            paginator = Paginator(range(skeleton["count"]), self.per_page)  # the count without a query
            page_obj = paginator.page(skeleton["number"])
            page_obj.object_list = with_places_taken(skeleton["offers"])
        for offer in page_obj.object_list:
            offer.card_key = _card_key(offer, request, self.locale_id)
        return {
            # Built only where the filter's fragment is not cached (its key is a digest of what it shows).
            "filter_form": form if form is not None else SimpleLazyObject(
                lambda: _checked(OfferFilterForm(params or None, site=site,
                                                 choices=self._filter_choices(site)))),
            "filter_key": skeleton["filter_key"],
            "offers": page_obj,
            "paginator": paginator,
            "has_any_offer": skeleton["has_any_offer"],
            "is_filtered": skeleton["is_filtered"],
            "querystring": skeleton["querystring"],
        }

    def warm_listing(self, site: Site) -> int:
        """Build the skeletons of the unfiltered first page and of the listings visitors built lately
        (`ASKED_LISTINGS`: a filter, a search, a deep page) for `site` in the active language where they
        are not cached (after a change, before the next visitor asks; see services.offers). Returns the
        number built."""
        language = translation.get_language()
        queries = [""] + [query for lang, query in cache.get(self._asked_key(), []) if lang == language]
        return sum(self._cached_skeleton(QueryDict(query), site, note=False)[1] is not None for query in queries)

    def _cached_skeleton(self, params: QueryDict, site: Site | None, *,
                         note: bool = True) -> tuple[dict, OfferFilterForm | None]:
        """The skeleton for the query `params`, and the filter form if it had to be built. A visitor's
        build of a listing other than the first page is noted (`note`) for the writer's next warm."""
        key = self._skeleton_key(params, site.pk if site else None)
        skeleton = cache.get(key)
        form = None
        if skeleton is None:
            form = OfferFilterForm(params or None, site=site, choices=self._filter_choices(site))
            skeleton = self._skeleton(params, form, site.pk if site else None)
            cache.set(key, skeleton, 600)
            if note and params:
                self._note_asked(params.urlencode())
        return skeleton, form

    def _asked_key(self) -> str:
        return f"workpro:offer-asked:{self.pk}"

    def _note_asked(self, query: str) -> None:
        """Keep `query` (in the active language) first among the listings visitors built lately: at most
        ASKED_LISTINGS, the oldest dropped. Not under a generation: what visitors ask outlives a change.
        Two visitors noting at once may lose one note; it is a hint for the warm, nothing depends on it."""
        entry = [translation.get_language(), query]
        asked = [entry] + [other for other in cache.get(self._asked_key(), []) if other != entry]
        cache.set(self._asked_key(), asked[:ASKED_LISTINGS], 7 * 24 * 3600)

    def taken_places(self, site_id: int | None) -> TakenPlaces:
        """The taken places of this index's offers that have a limit (without one an offer is always free)
        and which of them are full, kept under the site's content generation, which an enrollment moves
        on: one count shared by every listing filtered by free places until the next enrollment. A visitor
        who had to count notes the index, and after the site's next enrollment the writer counts for the
        next visitor (`warm_taken_places`); the note is rewritten whenever a visitor counts, so a culled
        one heals."""
        return self._kept_taken(site_id)[0]

    def warm_taken_places(self, site_id: int | None) -> bool:
        """Count the taken places where they are not cached (after an enrollment); whether it counted."""
        return self._kept_taken(site_id)[1]

    def _kept_taken(self, site_id: int | None) -> tuple[TakenPlaces, bool]:
        """The kept count of taken places, and whether it had to be counted (and the index noted)."""
        key = f"workpro:offer-places-taken:{self.pk}:{content_generation(site_id)}"
        taken = cache.get(key)
        if taken is not None:
            return taken, False
        taken = self._count_taken()
        cache.set(key, taken, 600)
        if site_id is not None:
            self._note_free_places_asked(site_id)
        return taken, True

    def _note_free_places_asked(self, site_id: int) -> None:
        key = free_places_asked_key(site_id)
        asked = cache.get(key, [])
        if self.pk not in asked:
            cache.set(key, [*asked, self.pk], 7 * 24 * 3600)

    def _count_taken(self) -> TakenPlaces:
        """One count of the places held at this index's offers with a limit, with their limits. It starts
        from those offers (the enrollments' offer index): asked by the enrollments' status, the database
        counted every place held in the installation, 400 KiTas'. An offer without a place at all
        (limit 0) is never a candidate (`_skeleton`), so only held places can make an offer full."""
        limited = OfferPage.objects.filter(self._child_paths(), capacity__isnull=False).values("pk")
        # The limit of each counted offer by a subquery inside an aggregate (the same for every place of an
        # offer): joined or grouped by, the database could start from the enrollments' status again.
        rows = list(places_held(offer_id__in=limited)
                    .annotate(capacity=Max(Subquery(OfferPage.objects.filter(pk=OuterRef("offer_id"))
                                                    .order_by().values("capacity"))))
                    .values_list("offer_id", "n", "capacity"))
        return TakenPlaces({pk: n for pk, n, _capacity in rows},
                           frozenset(pk for pk, n, capacity in rows if n >= capacity))

    def _filter_choices(self, site: Site | None) -> tuple[dict, dict]:
        """The filter's categories and age groups (`filter_choices`), kept with the skeletons: a listing
        built after a change needs them for its filter, and they rarely change with it."""
        site_id = site.pk if site else None
        return cache.get_or_set(f"workpro:offer-filter-choices:{site_id}:{structure_generation(site_id)}",
                                lambda: filter_choices(site), 600)

    def _ordered_ids(self, site_id: int | None, private_q) -> list[int]:
        """The ids of this index's live, public offers in the listing's order, kept under the site's
        structure generation: one read of every offer, shared by every page of the unfiltered listing
        and every language (built after a change by the writer, see services.offers)."""
        return cache.get_or_set(
            f"workpro:offer-order:{self.pk}:{structure_generation(site_id)}",
            lambda: list(self._children(OfferPage.objects, private_q()).order_by(*LISTING_ORDER)
                         .values_list("pk", flat=True)), 600)

    def _skeleton_key(self, params: QueryDict, site_id: int | None) -> str:
        return f"workpro:offer-listing:{self.pk}:{_request_key(params, structure_generation(site_id))}"

    def _skeleton(self, params: QueryDict, form, site_id: int | None) -> dict:
        """What the listing shows that taken places do not change (see `listing`)."""
        is_filtered = form.is_bound and form.is_valid() and form.has_filters()
        by_free_places = is_filtered and bool(form.cleaned_data.get("freie_plaetze"))  # see listing
        private_q = functools.cache(OfferPage.objects.private_q)  # one query, where needed, for all below
        order = LISTING_ORDER
        if is_filtered:
            offers = self._children(OfferPage.objects, private_q())
        if by_free_places:  # kept as a flat array: read back whole on every request (5,000 ids: 3 µs)
            candidates = array("q", form.filter(offers, free_places=False).exclude(capacity=0).order_by(*order)
                               .values_list("pk", flat=True))
            count, number, page_offers = len(candidates), 1, []
        elif is_filtered:
            # The filters (a search) cost per matching offer: they run once, for the ordered ids, which
            # give the count and the page; the page's cards are then read by id.
            ids = list(form.filter(offers).order_by(*order).values_list("pk", flat=True))
            paginator = Paginator(ids, self.per_page)
            page_obj = self._page(paginator, params)
            page_offers = _cards_by_id(page_obj.object_list)
            count, number = paginator.count, page_obj.number
        else:  # the ordered ids of every offer (cached): the count and any page without reading offers
            paginator = Paginator(self._ordered_ids(site_id, private_q), self.per_page)
            page_obj = self._page(paginator, params)
            page_offers = _cards_by_id(page_obj.object_list)
            count, number = paginator.count, page_obj.number
        query = params.copy()
        query.pop("seite", None)
        skeleton = {
            "count": count,
            "number": number,
            "offers": page_offers,
            # The rendered filter form and cards are cached under digests of what they show, not under the
            # content generation: a listing rebuilt after a change reuses those that did not change.
            "filter_key": _digest(self.url_path, form.is_bound, is_filtered,
                                  [(name, params.getlist(name)) for name in form.fields],
                                  [(slug, entry.label) for slug, entry in form.categories.items()],
                                  [(slug, entry.label) for slug, entry in form.age_groups.items()]),
            # Only an empty result needs to know whether anything is published at all.
            "has_any_offer": count > 0 or self.offers().exists(),
            "is_filtered": is_filtered,
            "querystring": query.urlencode(),
        }
        if by_free_places:
            skeleton["candidates"] = candidates
        return skeleton

    def _free_places_page(self, candidates: Sequence[int], params: QueryDict, site: Site | None):
        """Paginator and page of the `candidates` (ordered ids of the offers passing the other filters, none
        without any place) that have a free place now: those not full by the index's kept count of taken
        places (`taken_places`; the rule of `with_free_places`). The count and the page come without a
        walk over every candidate (`_FreeOffers`)."""
        taken = self.taken_places(site.pk if site else None)
        paginator = Paginator(_FreeOffers(candidates, taken.full), self.per_page)
        page_obj = self._page(paginator, params)
        page_obj.object_list = _cards_by_id(page_obj.object_list)
        for offer in page_obj.object_list:
            offer.places_taken_count = taken.taken.get(offer.pk, 0)
        return paginator, page_obj

    @staticmethod
    def _page(paginator, params: QueryDict):
        try:
            return paginator.page(params.get("seite", 1))
        except PageNotAnInteger:
            return paginator.page(1)
        except EmptyPage:
            return paginator.page(paginator.num_pages)


class TakenPlaces(NamedTuple):
    """The taken places of an index's offers with a limit (by id), and the ids of those that are full."""
    taken: dict[int, int]
    full: frozenset[int]


class _FreeOffers:
    """The ordered `candidates` without the `full` offers, as a Paginator reads them: its length, and a
    page's slice found by walking only up to the page's end (in C: islice over filterfalse)."""

    def __init__(self, candidates: Sequence[int], full: frozenset[int]):
        self._candidates = candidates
        self._full = full.intersection(candidates) if full else full

    def __len__(self) -> int:
        return len(self._candidates) - len(self._full)

    def __getitem__(self, index: slice) -> list[int]:
        if not self._full:
            return list(self._candidates[index])
        return list(islice(filterfalse(self._full.__contains__, self._candidates), index.start, index.stop))


def _cards_by_id(ids) -> list:
    """The offers of `ids` in that order, with the columns a card shows (a query compiled once per number of
    ids, lib.compiled_sql: a page has at most `per_page`)."""
    ids = list(ids)
    if not ids:
        return []
    by_id = {offer.pk: offer for offer in _CARDS.objects(ids=ids)}
    return [by_id[pk] for pk in ids if pk in by_id]


def _cards_query(ids):
    return OfferPage.objects.select_related("category").only(*OFFER_CARD_FIELDS).filter(pk__in=ids).order_by()


_CARDS = CompiledQuery(_cards_query)


def _checked(form):
    """A bound filter form with its errors, as the skeleton's build left it."""
    if form.is_bound:
        form.is_valid()
    return form


# How many listings besides the first page (a filter, a search, a deep page; per language) the writer
# rebuilds after a change: those visitors built last. Each costs the editor's publish one listing build
# (a search over 5,000 offers: about 30 ms).
ASKED_LISTINGS = 8


def free_places_asked_key(site_id: int) -> str:
    """The cache key of the site's offer indexes whose visitors filtered by free places lately."""
    return f"workpro:offer-free-places-asked:{site_id}"


# The listing's order: by start (open-ended first), title, and the id to make pages disjoint.
LISTING_ORDER = (F("starts_on").asc(nulls_first=True), "title", "pk")

# What an offer card of the index shows (offer_index_page.html): loaded without the stream fields,
# rich texts and the rest of the page row.
OFFER_CARD_FIELDS = (
    "title", "slug", "url_path", "path", "depth", "locale", "content_type",
    "teaser", "location", "starts_on", "ends_on", "rolling_admission", "capacity",
    "applications_open_from", "applications_close_on", "age_min", "age_max", "is_addon",
    "category__name", "category__name_en",
)


def _digest(*parts) -> str:
    """A cache key part for what a fragment shows (with the interface language)."""
    return hashlib.sha256(repr((translation.get_language(), *parts)).encode()).hexdigest()[:32]


def _card_key(offer, request, index_locale_id) -> str:
    """Digest of everything an offer card of the index shows (offer_index_page.html; its language
    attribute is the index page's)."""
    state = offer.registration_state()
    return _digest(index_locale_id, offer.pk, offer.get_url(request), offer.title, offer.category.label, offer.is_addon, offer.teaser,
                   offer.start_label, offer.location, str(offer.age_range_label), offer.places_free, state.is_open,
                   str(state.reason))


def places_held(**offers):
    """The places held per offer (rows of `offer_id` and `n`) at the offers `offers` selects (an id, a list or
    a subquery of ids): counted on the enrollments' offer index, one group per offer."""
    enrollments = OfferPage._meta.get_field("enrollments").related_model
    return enrollments.objects.filter(holds_place(), **offers).order_by().values("offer_id").annotate(n=Count("pk"))


def with_places_taken(offers: list) -> list:
    """`offers` with their taken places (`places_taken_count`), counted in one query for those with a
    limited number of places (without a limit the count is not shown)."""
    limited = [offer.pk for offer in offers if offer.capacity is not None]
    taken = dict(places_held(offer_id__in=limited).values_list("offer_id", "n")) if limited else {}
    for offer in offers:
        offer.places_taken_count = taken.get(offer.pk, 0)
    return offers


def listing_cache_key(request, site_id: int | None = None) -> str:
    """Cache key of an index listing: its site's content generation, day, language, query string.

    The generation changes whenever pages, institutions or enrollments of the site change (or
    anything not pinned to one site), and the day is part of the key because "Anmeldung offen"
    depends on the date.
    """
    return f"{site_id}:{_request_key(request.GET, content_generation(site_id))}"


def _request_key(params: QueryDict, generation: str) -> str:
    """What a listing's cache keys share: the generation, the day, the language and the query string."""
    query = hashlib.sha256(params.urlencode().encode()).hexdigest()[:24]
    return f"{generation}:{timezone.localdate().isoformat()}:{translation.get_language()}:{query}"


class OfferPageQuerySet(PageQuerySet):
    def with_places_taken(self):
        return self.annotate(
            places_taken_count=Count("enrollments", filter=holds_place("enrollments__"))
        )

    def open_for_applications(self, today: datetime.date | None = None):
        today = today or timezone.localdate()
        return self.filter(
            Q(applications_open_from__isnull=True) | Q(applications_open_from__lte=today),
            Q(applications_close_on__isnull=True) | Q(applications_close_on__gte=today),
            Q(ends_on__isnull=True) | Q(ends_on__gte=today),
        )

    def with_free_places(self):
        """Offers without a limit or with fewer taken places than places: a count per offer (on the
        enrollments' offer index) instead of grouping every offer with its enrollments."""
        taken = places_held(offer_id=OuterRef("pk")).values("n")
        return self.filter(Q(capacity__isnull=True) | Q(capacity__gt=Coalesce(Subquery(taken), 0)))

    def for_age_group(self, group: AgeGroup):
        """Offers whose target age range overlaps the group."""
        condition = Q(age_min__isnull=True) | Q(age_min__lte=group.max_age) if group.max_age is not None else Q()
        return self.filter(condition, Q(age_max__isnull=True) | Q(age_max__gte=group.min_age))


OfferPageManager = PageManager.from_queryset(OfferPageQuerySet)


class OfferPageForm(WagtailAdminPageForm):
    """Cross-field rules an editor cannot publish around."""

    omitted_questions = forms.MultipleChoiceField(
        label=_("Diese Fragen nicht stellen"), required=False, widget=forms.CheckboxSelectMultiple,
        choices=optional_question_choices,
        help_text=_("Freiwillige Fragen, die für dieses Angebot nicht passen (z. B. Abschluss und Tätigkeit bei "
                    "einem Hortplatz). Pflichtangaben werden immer erfragt."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        stored = self.initial.get("omitted_questions")
        if isinstance(stored, str):
            self.initial["omitted_questions"] = [code for code in stored.split(",") if code]
        field = self.fields.get("addon_for")
        if field is not None:
            field.queryset = self._bookable_offers()
        field = self.fields.get("category")
        if field is not None:  # an id beyond 64 bits is an invalid choice, not a 500 (lib.form_fields)
            self.fields["category"] = ModelChoiceField(
                queryset=self._choosable_categories(), label=field.label, help_text=field.help_text,
                widget=field.widget, required=True, empty_label=field.empty_label, error_messages={
                    "invalid_choice": _("Bitte wählen Sie eine Kategorie Ihrer Einrichtung."),
                    "required": _("Bitte wählen Sie eine Kategorie.")})

    def _site_root(self):
        parent = getattr(self, "parent_page", None)
        if parent is None and self.instance.pk:
            parent = self.instance.get_parent()
        site = parent.get_site() if parent is not None else None
        return site.root_page if site is not None else None

    def _bookable_offers(self):
        """"Buchbar zu" offers the offers of the page's own site only (never another institution's, which
        the staff member must not even read); add-ons and the page itself are no targets. A forged id of
        any other offer is refused as a choice the field does not have."""
        root = self._site_root()
        if root is None:
            return OfferPage.objects.none()
        offers = OfferPage.objects.descendant_of(root).filter(is_addon=False).order_by("title")
        return offers.exclude(pk=self.instance.pk) if self.instance.pk else offers

    def _choosable_categories(self):
        """The shared categories and those of the page's own institution; a forged id of another
        institution's category is refused as a choice the field does not have."""
        root = self._site_root()
        institution = Institution.objects.filter(site__root_page=root).first() if root else None
        return OfferCategory.objects.for_institution(institution)

    def clean_omitted_questions(self) -> str:
        return ",".join(self.cleaned_data.get("omitted_questions") or [])

    def clean(self):
        cleaned = super().clean()
        formset = self.formsets.get("application_sections")
        if formset is not None and formset.is_valid():
            seen: dict[str, forms.Form] = {}
            for form in formset.forms:
                data = form.cleaned_data
                if not data or data.get("DELETE"):
                    continue
                section = data["section"]
                if section in seen:
                    form.add_error("section", _("Dieser Abschnitt ist bereits gewählt."))
                seen[section] = form
                if section == ApplicationSection.PERSONAL and data["phase"] != SectionPhase.BEFORE_APPLICATION:
                    form.add_error("phase", _("Persönliche Daten werden immer vor der Bewerbung erfasst."))
            if ApplicationSection.INCOME in seen and not cleaned.get("fee_schedule"):
                self.add_error(
                    "fee_schedule",
                    _("Für den Abschnitt „Haushalt und Jahreseinkommen“ muss eine Gebührenordnung gewählt sein."),
                )
            self._check_required_sections(cleaned, seen)
        self._check_fee_schedule_institution(cleaned.get("fee_schedule"))
        addon_for = cleaned.get("addon_for")
        if addon_for:
            if not cleaned.get("is_addon"):
                self.add_error("addon_for", _("Nur Zusatzangebote können zu anderen Angeboten gebucht werden."))
            elif any(offer.is_addon for offer in addon_for):
                self.add_error("addon_for", _("Ein Zusatzangebot kann nicht zu einem Zusatzangebot gebucht werden."))
        return cleaned

    def _check_required_sections(self, cleaned: dict, seen: dict) -> None:
        """Sections an offer cannot do without: the income where the fee depends on it, the guardians
        (with the PSB1) where every participant is a minor. Add-ons are booked without an application."""
        if cleaned.get("is_addon"):
            return
        schedule = cleaned.get("fee_schedule")
        if schedule is not None and schedule.is_income_dependent and ApplicationSection.INCOME not in seen:
            self.add_error(None, _("Die Gebührenordnung richtet sich nach dem Einkommen: der Abschnitt „Haushalt "
                                   "und Jahreseinkommen“ ist nötig."))
        age_max = cleaned.get("age_max")
        if age_max is not None and age_max < 18 and ApplicationSection.GUARDIANS not in seen:
            self.add_error(None, _("Das Angebot ist für Minderjährige: der Abschnitt „Personensorgeberechtigte“ "
                                   "(mit dem PSB1) ist nötig."))

    def _check_fee_schedule_institution(self, schedule) -> None:
        """An offer uses its own institution's fee schedule or a shared one, never another institution's:
        the chooser lists only those, and a forged id is refused here."""
        if schedule is None or schedule.institution_id is None:
            return
        root = self._site_root()
        institution = Institution.objects.filter(site__root_page=root).only("pk").first() if root else None
        if institution is None or schedule.institution_id != institution.pk:
            self.add_error("fee_schedule", _("Diese Gebührenordnung gehört zu einer anderen Einrichtung. Bitte "
                                             "wählen Sie eine Gebührenordnung Ihrer Einrichtung."))


class OfferPage(Page):
    """A service an institution publishes; visitors register for it."""

    category = models.ForeignKey(
        "workpro_plugin.OfferCategory", verbose_name=_("Kategorie"), on_delete=models.PROTECT, related_name="offers",
        help_text=_("Die Kategorien verwalten Sie unter „WorkPro“ › „Angebotskategorien“."))
    teaser = models.TextField(_("Kurzbeschreibung"), max_length=300,
                              help_text=_("Erscheint in der Angebotsübersicht (höchstens 300 Zeichen)."))
    body = StreamField(OfferBodyBlock(), verbose_name=_("Beschreibung"), blank=True)
    location = models.CharField(_("Ort"), max_length=200, blank=True)
    starts_on = models.DateField(_("Beginn"), null=True, blank=True)
    ends_on = models.DateField(_("Ende"), null=True, blank=True)
    rolling_admission = models.BooleanField(
        _("laufender Einstieg"), default=False, help_text=_("Einstieg jederzeit möglich, kein fester Beginn.")
    )
    duration = models.CharField(_("Dauer"), max_length=100, blank=True, help_text=_("z. B. „3 Jahre“"))
    schedule = models.CharField(_("Zeiten"), max_length=200, blank=True, help_text=_("z. B. „Mo–Fr 7–17 Uhr“"))
    capacity = models.PositiveIntegerField(_("Plätze"), null=True, blank=True,
                                           help_text=_("Leer lassen, wenn die Zahl der Plätze nicht begrenzt ist."))
    applications_open_from = models.DateField(_("Anmeldung möglich ab"), null=True, blank=True)
    applications_close_on = models.DateField(_("Anmeldeschluss"), null=True, blank=True)
    age_min = models.PositiveSmallIntegerField(_("Alter von (Jahre)"), null=True, blank=True,
                                               validators=[MaxValueValidator(120)])
    age_max = models.PositiveSmallIntegerField(_("Alter bis (Jahre)"), null=True, blank=True,
                                               validators=[MaxValueValidator(120)])
    interview_required = models.BooleanField(_("Persönliches Gespräch erforderlich"), default=True)
    asks_desired_start = models.BooleanField(
        _("Gewünschten Beginn erfragen"), default=False,
        help_text=_("Eltern geben auf der Wunschliste an, ab wann sie den Platz wünschen."))
    asks_care_hours = models.BooleanField(
        _("Betreuungsumfang erfragen"), default=False,
        help_text=_("Eltern geben auf der Wunschliste die gewünschten Stunden pro Woche an."))
    contract_return_days = models.PositiveSmallIntegerField(
        _("Frist für den unterschriebenen Vertrag (Tage)"), default=14, validators=[MaxValueValidator(365)],
        help_text=_("So viele Tage hat der Teilnehmer, um das unterschriebene Angebot zu hinterlegen."),
    )
    required_documents = models.TextField(
        _("Erforderliche Nachweise"), blank=True,
        help_text=_("Ein Nachweis pro Zeile, z. B. „Letztes Zeugnis“. Gilt für den Abschnitt „Nachweise hochladen“."),
    )
    contact_name = models.CharField(_("Ansprechpartner"), max_length=200, blank=True)
    contact_email = models.EmailField(_("E-Mail des Ansprechpartners"), blank=True)
    contact_phone = models.CharField(_("Telefon des Ansprechpartners"), max_length=40, blank=True)
    fee_schedule = models.ForeignKey(
        "workpro_plugin.FeeSchedule", verbose_name=_("Gebührenordnung"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="offers",
    )
    is_addon = models.BooleanField(
        _("Zusatzangebot"), default=False,
        help_text=_("Zusatzangebote können nur zu einem abgeschlossenen Vertrag gebucht werden."),
    )
    omitted_questions = models.CharField(
        _("Diese Fragen nicht stellen"), max_length=500, blank=True,
        help_text=_("Freiwillige Fragen der Anmeldung, die für dieses Angebot nicht gestellt werden."))
    questions = StreamField(
        OfferQuestionsBlock(), verbose_name=_("Eigene Fragen"), blank=True,
        help_text=_("Fragen Ihrer Einrichtung zusätzlich zu den Abschnitten oben, z. B. „Allergien“ oder "
                    "„Führerschein“. Bereits begonnene Anmeldungen behalten die Fragen, mit denen sie begonnen "
                    "wurden."))
    terms_contract = RichTextField(_("Vertragsbedingungen"), blank=True, features=TERM_FEATURES,
                                   help_text=_("Leer lassen: es gelten die Vertragsbedingungen der Einrichtung."))
    terms_house_rules = RichTextField(_("Hausordnung"), blank=True, features=TERM_FEATURES,
                                      help_text=_("Leer lassen: es gilt die Hausordnung der Einrichtung."))
    terms_fee_rules = RichTextField(_("Gebührenordnung"), blank=True, features=TERM_FEATURES,
                                    help_text=_("Leer lassen: es gilt der Text der Einrichtung zur Gebührenordnung."))
    addon_for = ParentalManyToManyField(
        "self", verbose_name=_("Buchbar zu"), blank=True, symmetrical=False, related_name="addons",
        help_text=_("Die Angebote, zu denen dieses Zusatzangebot gebucht werden kann."),
    )

    objects = OfferPageManager()
    base_form_class = OfferPageForm

    content_panels = Page.content_panels + [
        FieldRowPanel([FieldPanel("category"), FieldPanel("is_addon")]),
        FieldPanel("teaser"),
        FieldPanel("body"),
        MultiFieldPanel(
            [
                FieldPanel("location"),
                FieldRowPanel([FieldPanel("starts_on"), FieldPanel("ends_on")]),
                FieldPanel("rolling_admission"),
                FieldRowPanel([FieldPanel("duration"), FieldPanel("schedule")]),
                FieldRowPanel([FieldPanel("age_min"), FieldPanel("age_max")]),
                FieldPanel("capacity"),
            ],
            heading=_("Ort, Zeit und Plätze"),
        ),
        MultiFieldPanel(
            [
                FieldRowPanel([FieldPanel("applications_open_from"), FieldPanel("applications_close_on")]),
                FieldPanel("interview_required"),
                FieldRowPanel([FieldPanel("asks_desired_start"), FieldPanel("asks_care_hours")]),
                FieldPanel("contract_return_days"),
                FieldPanel("fee_schedule"),
                FieldPanel("required_documents"),
            ],
            heading=_("Anmeldung und Vertrag"),
        ),
        InlinePanel(
            "application_sections", heading=_("Abschnitte der Anmeldung"), label=_("Abschnitt"),
            help_text=_("Welche Angaben der Teilnehmer machen muss, und wann. "
                        "Persönliche Daten werden immer vor der Bewerbung erfasst."),
        ),
        FieldPanel("omitted_questions"),
        FieldPanel("questions"),
        MultiFieldPanel(
            [FieldPanel("contact_name"), FieldPanel("contact_email"), FieldPanel("contact_phone")],
            heading=_("Ansprechpartner"),
        ),
        FieldPanel("addon_for"),
        MultiFieldPanel(
            [FieldPanel("terms_contract"), FieldPanel("terms_house_rules"), FieldPanel("terms_fee_rules")],
            heading=_("Vertragsbedingungen für dieses Angebot"), classname="collapsed",
        ),
    ]
    search_fields = Page.search_fields + [
        index.SearchField("teaser"),
        index.SearchField("body"),
        index.SearchField("location"),
        index.AutocompleteField("title"),
        index.FilterField("category"),
        index.FilterField("starts_on"),
    ]

    parent_page_types = ["workpro_plugin.OfferIndexPage"]
    subpage_types: list[str] = []

    class Meta:
        verbose_name = _("Angebot")
        verbose_name_plural = _("Angebote")

    def clean(self):
        super().clean()
        errors = {}
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            errors["ends_on"] = _("Das Ende darf nicht vor dem Beginn liegen.")
        if (self.applications_open_from and self.applications_close_on
                and self.applications_close_on < self.applications_open_from):
            errors["applications_close_on"] = _("Der Anmeldeschluss darf nicht vor dem Anmeldebeginn liegen.")
        if self.age_min is not None and self.age_max is not None and self.age_max < self.age_min:
            errors["age_max"] = _("Das Höchstalter darf nicht unter dem Mindestalter liegen.")
        if errors:
            raise ValidationError(errors)

    # --- reads ------------------------------------------------------------------

    @cached_property
    def places_taken(self) -> int:
        annotated = getattr(self, "places_taken_count", None)
        if annotated is not None:
            return annotated
        return self.enrollments.filter(holds_place()).count()

    @property
    def places_free(self) -> int | None:
        if self.capacity is None:
            return None
        return max(self.capacity - self.places_taken, 0)

    def registration_state(self, today: datetime.date | None = None) -> RegistrationState:
        today = today or timezone.localdate()
        if self.applications_open_from and today < self.applications_open_from:
            return RegistrationState(False, _("Anmeldungen sind ab dem %(date)s möglich.")
                                     % {"date": date_format(self.applications_open_from)})
        if self.applications_close_on and today > self.applications_close_on:
            return RegistrationState(False, _("Der Anmeldeschluss (%(date)s) ist vorbei.")
                                     % {"date": date_format(self.applications_close_on)})
        if self.ends_on and today > self.ends_on:
            return RegistrationState(False, _("Dieses Angebot ist beendet."))
        if self.places_free == 0:  # still open: the application waits for a freed place or the next round
            return RegistrationState(True, _("Alle Plätze sind belegt: neue Anmeldungen kommen auf die Warteliste "
                                             "und werden bei der nächsten Platzvergabe berücksichtigt."))
        return RegistrationState(True)

    def section_plan(self, questions: list[dict] | None = None) -> dict[str, int]:
        """{section code: phase}; personal data are always due before the application.

        The own questions of a phase form a section of that phase; `questions` are the definitions
        an enrollment was started with (default: the offer's current ones)."""
        plan = {ApplicationSection.PERSONAL.value: SectionPhase.BEFORE_APPLICATION.value}
        for item in self.application_sections.all():
            if item.section != ApplicationSection.PERSONAL:
                plan[item.section] = item.phase
        for question in self.question_definitions() if questions is None else questions:
            section = section_for_phase(question.get("phase", 1))
            plan[section] = QUESTION_SECTIONS[section]
        return plan

    def required_sections(self, phase: int | None = None, questions: list[dict] | None = None) -> list[str]:
        plan = self.section_plan(questions)
        order = list(ApplicationSection.values)
        # The own questions come after the standard sections, before the uploads (done last).
        order[order.index(ApplicationSection.UPLOADS.value):order.index(ApplicationSection.UPLOADS.value)] = list(
            QUESTION_SECTIONS)
        return sorted((s for s, p in plan.items() if phase is None or p <= phase), key=order.index)

    def question_definitions(self) -> list[dict]:
        """The offer's own questions as they are now (lib.questions)."""
        return definitions_of(self.questions)

    @property
    def omitted_question_list(self) -> list[str]:
        return [code for code in self.omitted_questions.split(",") if code]

    @property
    def required_document_list(self) -> list[str]:
        return [line.strip() for line in self.required_documents.splitlines() if line.strip()]

    def age_refusal(self, person, today: datetime.date | None = None) -> str:
        """Why `person` is outside the offer's age group at its start ("" if they fit or nothing is known).

        The age counts on the start date; an offer that has started (or has no fixed start) counts today.
        """
        if (self.age_min is None and self.age_max is None) or person.date_of_birth is None:
            return ""
        today = today or timezone.localdate()
        day = max(self.starts_on, today) if self.starts_on else today
        age = person.age_on(day)
        if (self.age_min is None or age >= self.age_min) and (self.age_max is None or age <= self.age_max):
            return ""
        return str(_("„%(offer)s“ ist für %(range)s. %(name)s ist am %(date)s %(age)s Jahre alt. Bitte wählen Sie "
                     "ein Angebot für diese Altersgruppe.")
                   % {"offer": self.title, "range": self.age_range_label_for_people, "name": person.full_name,
                      "date": date_format(day), "age": age})

    @property
    def age_range_label_for_people(self) -> str:
        if self.age_min is not None and self.age_max is not None:
            return _("Teilnehmer von %(min)s bis %(max)s Jahren") % {"min": self.age_min, "max": self.age_max}
        if self.age_min is not None:
            return _("Teilnehmer ab %(min)s Jahren") % {"min": self.age_min}
        return _("Teilnehmer bis %(max)s Jahre") % {"max": self.age_max}

    @property
    def age_range_label(self) -> str:
        if self.age_min is not None and self.age_max is not None:
            return _("%(min)s bis %(max)s Jahre") % {"min": self.age_min, "max": self.age_max}
        if self.age_min is not None:
            return _("ab %(min)s Jahren") % {"min": self.age_min}
        if self.age_max is not None:
            return _("bis %(max)s Jahre") % {"max": self.age_max}
        return ""

    @property
    def start_label(self) -> str:
        if self.rolling_admission:
            return str(_("laufender Einstieg"))
        return date_format(self.starts_on) if self.starts_on else ""

    def get_institution(self, request=None):
        """The institution whose site this offer lives on (looked up once per page object)."""
        site = Site.find_for_request(request) if request is not None else None
        site = site or self.get_site()
        cached = getattr(self, "_workpro_institution", None)
        if cached is None or cached[0] != getattr(site, "pk", None):
            cached = (getattr(site, "pk", None), Institution.objects.for_site(site))
            self._workpro_institution = cached
        return cached[1]

    @cached_property
    def fee_schedule_with_brackets(self):
        if not self.fee_schedule_id:
            return None
        return FeeSchedule.objects.prefetch_related("brackets").get(pk=self.fee_schedule_id)

    def structured_data(self, request=None) -> dict:
        """schema.org JSON-LD: a Course for education offers, a Service otherwise."""
        institution = self.get_institution(request)
        category = self.category
        provider = {"@type": "EducationalOrganization" if category.is_educational else "Organization"}
        if institution:
            provider.update(name=institution.name, telephone=institution.phone or None,
                            email=institution.email or None)
            provider["address"] = {
                "@type": "PostalAddress", "streetAddress": institution.street,
                "postalCode": institution.postcode, "addressLocality": institution.city, "addressCountry": "DE",
            }
        url = self.get_full_url(request)
        data = {
            "@context": "https://schema.org",
            "@type": category.schema_type,
            "name": self.title,
            "description": self.teaser,
            "url": url,
            "provider": provider,
        }
        if category.schema_type == SchemaType.COURSE:
            instance = {"@type": "CourseInstance", "courseMode": "onsite"}
            if self.starts_on:
                instance["startDate"] = self.starts_on.isoformat()
            if self.ends_on:
                instance["endDate"] = self.ends_on.isoformat()
            if self.location:
                instance["location"] = {"@type": "Place", "name": self.location}
            data["hasCourseInstance"] = instance
        elif category.schema_type == SchemaType.PROGRAM:
            data["educationalProgramMode"] = "onsite"
            if self.starts_on:
                data["startDate"] = self.starts_on.isoformat()
            if self.ends_on:
                data["endDate"] = self.ends_on.isoformat()
            if self.duration:
                data["timeToComplete"] = self.duration
            if self.location:
                data["location"] = {"@type": "Place", "name": self.location}
        else:
            data["serviceType"] = category.name
            if self.location:
                data["areaServed"] = self.location
        offer = {"@type": "Offer"}
        schedule = self.fee_schedule_with_brackets
        if schedule is not None:
            brackets = schedule.as_brackets()
            low = min((b.amount for b in brackets), default=schedule.maximum_rate)
            offer = {
                "@type": "AggregateOffer", "priceCurrency": "EUR",
                "lowPrice": str(low), "highPrice": str(schedule.maximum_rate),
            }
        offer.update(
            url=url, availability=self.schema_availability(),
            validFrom=self.applications_open_from.isoformat() if self.applications_open_from else None,
            validThrough=self.applications_close_on.isoformat() if self.applications_close_on else None,
        )
        data["offers"] = offer
        return _drop_empty(data)

    def schema_availability(self, today: datetime.date | None = None) -> str:
        """schema.org availability of a place: PreOrder before the application window, SoldOut when
        every place is taken, Discontinued once applications closed, else InStock."""
        today = today or timezone.localdate()
        if self.applications_open_from and today < self.applications_open_from:
            state = "PreOrder"
        elif (self.applications_close_on and today > self.applications_close_on) or \
                (self.ends_on and today > self.ends_on):
            state = "Discontinued"
        elif self.places_free == 0:
            state = "SoldOut"
        else:
            state = "InStock"
        return f"https://schema.org/{state}"

    def structured_data_json(self, request=None) -> str:
        text = json.dumps(self.structured_data(request), cls=DjangoJSONEncoder, ensure_ascii=False)
        return mark_safe(text.translate(_json_script_escapes))  # noqa: S308 - escaped for <script>

    def get_meta_description(self) -> str:
        return self.search_description or strip_tags(self.teaser)

    def _public_details(self, request) -> dict:
        """What the detail page shows beyond the page row: its institution, Kriterienkatalog, fee
        schedule, add-ons, taken places and JSON-LD (about eight queries)."""
        institution = self.get_institution(request)
        schedule = self.fee_schedule_with_brackets
        return {
            "institution": institution,
            "places_taken": self.places_taken,
            "criteria": Criterion.objects.for_offer(self, institution),
            "fee_schedule": schedule,
            "fee_brackets": list(schedule.brackets.all()) if schedule else [],
            "addon_offers": list(self.addons.live().defer_streamfields()) if not self.is_addon else [],
            "base_offers": list(self.addon_for.live().defer_streamfields()) if self.is_addon else [],
            "structured_data_json": str(self.structured_data_json(request)),
        }

    def detail_cache_key(self, request) -> str | None:
        """Key of the cached details and fragments of the detail page, like the index listing's: per site
        content generation (pages, institutions, enrollments, fee schedules, criteria of the site), day
        (free places, availability) and language. None for a preview: it shows the draft."""
        if getattr(request, "is_preview", False):
            return None
        site = Site.find_for_request(request) or self.get_site()
        site_id = site.pk if site else None
        return f"{site_id}:{content_generation(site_id)}:{timezone.localdate().isoformat()}:{translation.get_language()}"

    def public_details(self, request, key: str | None) -> dict:
        """`_public_details`, cached under `key` (see detail_cache_key); uncached without one."""
        if key is None:
            return self._public_details(request)
        cache_key = f"workpro:offer-detail:{self.pk}:{key}"
        details = cache.get(cache_key)
        if details is None:
            details = self._public_details(request)
            cache.set(cache_key, details, 600)
        else:  # the page object answers as if it had read them itself
            self.__dict__["places_taken"] = details["places_taken"]
            site = Site.find_for_request(request) or self.get_site()  # the request's: already looked up
            self._workpro_institution = (getattr(site, "pk", None), details["institution"])
        return details

    def get_context(self, request, *args, registration_form=None, **kwargs):
        """`registration_form` is the bound "Registrieren" form a failed POST shows again
        (portal.views.registration, reached through the `before_serve_page` hook)."""
        context = super().get_context(request, *args, **kwargs)
        context["registration_form"] = registration_form or RegistrationForm()
        key = self.detail_cache_key(request)
        details = self.public_details(request, key)
        context.update(
            detail_cache_key=key,
            registration=self.registration_state(),
            institution=details["institution"],
            criteria=details["criteria"],
            fee_schedule=details["fee_schedule"],
            fee_brackets=details["fee_brackets"],
            addon_offers=details["addon_offers"],
            base_offers=details["base_offers"],
            structured_data_json=mark_safe(details["structured_data_json"]),  # noqa: S308 - escaped when built
        )
        return context


def _drop_empty(value):
    if isinstance(value, dict):
        return {k: _drop_empty(v) for k, v in value.items() if v not in (None, "", [], {})}
    return value


class OfferSection(Orderable):
    """An application section an offer requires, and in which phase it is due."""

    page = ParentalKey(OfferPage, on_delete=models.CASCADE, related_name="application_sections")
    section = models.CharField(_("Abschnitt"), max_length=20, choices=ApplicationSection.choices)
    phase = models.PositiveSmallIntegerField(_("Fällig"), choices=SectionPhase.choices,
                                             default=SectionPhase.BEFORE_APPLICATION)

    panels = [FieldRowPanel([FieldPanel("section"), FieldPanel("phase")])]

    class Meta(Orderable.Meta):
        verbose_name = _("Abschnitt der Anmeldung")
        verbose_name_plural = _("Abschnitte der Anmeldung")
