"""Shared pieces of the WorkPro modeladmin classes."""

from __future__ import annotations

from urllib.parse import parse_qs

from django.contrib.admin.filters import FieldListFilter, SimpleListFilter
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import get_fields_from_path, lookup_spawns_duplicates
from django.db import models
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from wagtail.snippets.views import chooser as snippet_chooser
from wagtail.snippets.views import snippets as snippet_views
from wagtail_modeladmin import views as modeladmin_views
from wagtail_modeladmin.helpers import PermissionHelper

from ..lib.users import remembered
from ..services import audit
from .shortcuts import staff_object_or_404


def admin_display(description, ordering):
    """A list column's header and, if given, the field it sorts by."""
    def decorate(func):
        func.short_description = description
        if ordering:
            func.admin_order_field = ordering
        return func
    return decorate


class RefusedIs400:
    """A modeladmin create/edit form with errors answers 400 (Wagtail answers 200), like WorkPro's own forms:
    clients and tests can tell a refusal from a page that was merely shown."""

    def form_invalid(self, form):
        response = super().form_invalid(form)
        response.status_code = 400
        return response


class CreateView(RefusedIs400, modeladmin_views.CreateView):
    pass


class EditView(RefusedIs400, modeladmin_views.EditView):
    pass


# --- Admin lists accept only what they declare ------------------------------------------------------

class BadListParameters(Exception):
    """A list request with a parameter the list does not declare, or a value its filter does not offer."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


def _refused_list(request, message):
    """400 with a German message and the way back to the plain list; recorded like any other denial."""
    match = request.resolver_match
    audit.denied(request, object_type=match.view_name if match else "", object_id="",
                 reason="undeclared_list_parameter")
    return TemplateResponse(request, "workpro_plugin/admin/list_refused.html",
                            {"message": message, "list_url": request.path, "header_title": _("Ungültige Anfrage")},
                            status=400)


def _names(keys) -> str:
    return ", ".join(f"„{key}“" for key in sorted(keys))


def _unknown(message_keys):
    return BadListParameters(ngettext("Diese Liste kennt den Parameter %(names)s nicht.",
                                      "Diese Liste kennt die Parameter %(names)s nicht.",
                                      len(message_keys)) % {"names": _names(message_keys)})


def _bad_value(key):
    return BadListParameters(_("Der Wert für %(name)s ist ungültig.") % {"name": _names([key])})


class DeclaredParamsIndexView:
    """For wagtail-modeladmin index views, which apply every undeclared query parameter as an ORM lookup
    (``?account_holder__password__startswith=…``) and never call ``lookup_allowed``: the list accepts only
    its declared filters (with the values they offer), search (if it has search fields), ordering by a
    column, the page number and its export formats. Anything else is a 400, never a different result set.
    """

    def dispatch(self, request, *args, **kwargs):
        try:
            return super().dispatch(request, *args, **kwargs)
        except BadListParameters as refusal:
            return _refused_list(request, refusal.message)

    def _check_reserved(self, request):
        get = request.GET
        if self.ERROR_FLAG in get:
            raise _unknown([self.ERROR_FLAG])
        if self.SEARCH_VAR in get and not self.search_fields:
            raise _unknown([self.SEARCH_VAR])
        if self.EXPORT_VAR in get and (not self.list_export
                                       or any(v not in self.FORMATS for v in get.getlist(self.EXPORT_VAR))):
            raise _bad_value(self.EXPORT_VAR) if self.list_export else _unknown([self.EXPORT_VAR])
        for value in get.getlist(self.PAGE_VAR):
            if not value.isdigit() or len(value) > 9:
                raise _bad_value(self.PAGE_VAR)
        for value in get.getlist(self.ORDER_TYPE_VAR):
            if value not in ("asc", "desc"):
                raise _bad_value(self.ORDER_TYPE_VAR)
        for value in get.getlist(self.ORDER_VAR):
            for part in value.split("."):
                index = part[1:] if part.startswith("-") else part
                if not index.isdigit() or len(index) > 3 or int(index) >= len(self.list_display):
                    raise _bad_value(self.ORDER_VAR)
        for key, values in get.lists():
            if any("\x00" in value for value in values):
                raise _bad_value(key)

    def get_queryset(self, request=None):
        request = request or self.request
        self._check_reserved(request)
        try:
            return super().get_queryset(request)
        except IncorrectLookupParameters as error:
            raise _unknown([key for key in request.GET if key not in self._reserved()]) from error

    def _reserved(self):
        return {self.ORDER_VAR, self.ORDER_TYPE_VAR, self.SEARCH_VAR, self.EXPORT_VAR, self.PAGE_VAR}

    def get_filters(self, request):
        lookup_params = self.get_filters_params()
        # What the declared filters consume is removed by them; whatever is left would become a raw lookup.
        all_specs, remaining, use_distinct = _declared_filter_specs(self, request, lookup_params)
        if remaining:
            raise _unknown(list(remaining))
        for spec in all_specs:  # also a filter not shown (one choice only) must not take any value
            self._check_values(request, spec)
        specs = [spec for spec in all_specs if spec.has_output()]
        return specs, bool(specs), {}, use_distinct

    def _check_values(self, request, spec):
        """Every value of a filter parameter must be one the filter offers (its choices' query strings)."""
        expected = set(spec.expected_parameters())
        given = [key for key in expected if key in request.GET]
        if not given:
            return
        offered: dict[str, set[str]] = {}
        if isinstance(spec, SimpleListFilter) and (type(spec).choices is SimpleListFilter.choices
                                                   or getattr(spec, "choices_are_lookups", False)):
            # SimpleListFilter.choices offers its parameter with each lookup's value (and "all" without it):
            # the same set, without building and parsing a query string per choice (400 offers of a Träger).
            offered[spec.parameter_name] = {str(lookup) for lookup, _title in spec.lookup_choices}
        else:
            for choice in spec.choices(self):
                for key, values in parse_qs(choice["query_string"].lstrip("?"), keep_blank_values=True).items():
                    if key in expected:
                        offered.setdefault(key, set()).update(values)
        for key in given:
            if any(value not in offered.get(key, ()) for value in request.GET.getlist(key)):
                raise _bad_value(key)


def declared_params_only(index_view_class):
    """The modeladmin index view class with ``DeclaredParamsIndexView`` in front (once)."""
    if issubclass(index_view_class, DeclaredParamsIndexView):
        return index_view_class
    return type(f"DeclaredParams{index_view_class.__name__}", (DeclaredParamsIndexView, index_view_class), {})


def _declared_filter_specs(view, request, lookup_params):
    """Build the declared filter specs as wagtail-modeladmin does (also those without output); return them with
    the parameters they left over."""
    use_distinct = False
    filter_specs = []
    for list_filter in view.list_filter or ():
        if callable(list_filter):
            spec = list_filter(request, lookup_params, view.model, view.model_admin)
        else:
            field_path = None
            if isinstance(list_filter, (tuple, list)):
                field, field_list_filter_class = list_filter
            else:
                field, field_list_filter_class = list_filter, FieldListFilter.create
            if not isinstance(field, models.Field):
                field_path = field
                field = get_fields_from_path(view.model, field_path)[-1]
            spec = field_list_filter_class(field, request, lookup_params, view.model, view.model_admin,
                                           field_path=field_path)
            use_distinct = use_distinct or lookup_spawns_duplicates(view.opts, field_path)
        if spec:
            filter_specs.append(spec)
    return filter_specs, lookup_params, use_distinct


class DeclaredParamsListingView:
    """The same rule for Wagtail's generic listing and chooser views (snippets): they ignore unknown parameters
    rather than filter by them, but a WorkPro list still answers 400 to what it does not declare, and to a
    filter value its filter form refuses (``?institution=abc``), instead of silently showing everything."""

    common_params = frozenset({"p", "q", "ordering", "export", "_w_filter_fragment", "multiple", "locale"})

    def _filter_form(self):
        if hasattr(self, "get_filter_form"):  # chooser views
            return self.get_filter_form()
        filters = getattr(self, "filters", None)  # index views (a django-filter FilterSet)
        return filters.form if filters is not None else None

    def get(self, request, *args, **kwargs):
        declared = self.common_params | set(getattr(self, "url_filter_parameters", ()) or ())
        if refused := refuse_undeclared(request, declared, self._filter_form() if request.GET else None):
            return refused
        return super().get(request, *args, **kwargs)


def declared_params_snippets(viewset_class):
    """A SnippetViewSet whose list, results and chooser views accept only declared parameters."""

    def strict(view_class):
        if issubclass(view_class, DeclaredParamsListingView):
            return view_class
        return type(f"DeclaredParams{view_class.__name__}", (DeclaredParamsListingView, view_class), {})

    chooser = viewset_class.chooser_viewset_class or snippet_chooser.SnippetChooserViewSet
    strict_chooser = type(f"DeclaredParams{chooser.__name__}", (chooser,), {
        "choose_view_class": strict(chooser.choose_view_class),
        "choose_results_view_class": strict(chooser.choose_results_view_class),
    })
    return type(viewset_class.__name__, (viewset_class,), {
        "__module__": viewset_class.__module__,
        "index_view_class": strict(viewset_class.index_view_class or snippet_views.IndexView),
        "chooser_viewset_class": strict_chooser,
    })


def _form_params(form) -> set[str]:
    """The query parameters a (bound) filter form reads, a multi-widget's suffixed names included."""
    names = set()
    for bound in form:
        names.add(bound.html_name)
        for suffix in getattr(bound.field.widget, "suffixes", ()) or ():
            names.add(f"{bound.html_name}_{suffix}" if suffix else bound.html_name)
    return names


def refuse_undeclared(request, declared, form=None):
    """A 400 response for an undeclared parameter or a value the list's filter form refuses, else None.
    Used by WorkPro's own list views and by ``DeclaredParamsListingView``."""
    names = set(declared) | (_form_params(form) if form is not None else set())
    unknown = [key for key in request.GET if key not in names]
    if unknown:
        return _refused_list(request, _unknown(unknown).message)
    if form is not None and form.is_bound and not form.is_valid():
        return _refused_list(request, _bad_value(next(iter(form.errors))).message)
    return None


# --- rows that belong to an institution (Textbausteine, Kriterienkatalog) -----------------------------

class InstitutionRowsPermissionHelper(PermissionHelper):
    """List and create for staff of at least one of `institutions(user)`; edit and delete a row where
    `may_change(user, obj)`; no inspect view (the edit form shows everything), no copy."""

    def institutions(self, user):
        raise NotImplementedError

    def may_change(self, user, obj) -> bool:
        raise NotImplementedError

    def user_can_list(self, user):
        return self._any_institution(user)

    def user_can_create(self, user):
        return self._any_institution(user)

    def _any_institution(self, user) -> bool:
        """Whether `institutions(user)` has any, asked once per request (the menu asks for each entry)."""
        if not user.is_authenticated:
            return False
        return remembered(user, f"{type(self).__module__}.{type(self).__qualname__}",
                          lambda: self.institutions(user).exists())

    def user_can_inspect_obj(self, user, obj):
        return False

    def user_can_edit_obj(self, user, obj):
        return self.may_change(user, obj)

    def user_can_delete_obj(self, user, obj):
        return self.may_change(user, obj)

    def user_can_copy_obj(self, user, obj):
        return False


class InstitutionRowsAdmin:
    """modeladmin finds an instance by id among all rows: outside `get_queryset(request)` (the user's
    institutions) its edit, delete and history views are a 404."""

    create_view_class = CreateView
    edit_view_class = EditView

    def _scoped(self, request, instance_pk) -> None:
        staff_object_or_404(self.get_queryset(request), instance_pk)

    def edit_view(self, request, instance_pk):
        self._scoped(request, instance_pk)
        return super().edit_view(request, instance_pk)

    def delete_view(self, request, instance_pk):
        self._scoped(request, instance_pk)
        return super().delete_view(request, instance_pk)

    def history_view(self, request, instance_pk):
        self._scoped(request, instance_pk)
        return super().history_view(request, instance_pk)
