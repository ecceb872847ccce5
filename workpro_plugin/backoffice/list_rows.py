"""The rows of a modeladmin list as wagtail-modeladmin renders them, without its per-row and per-cell templates.

modeladmin renders each row through an inclusion tag and each cell through another (with format_html and
flatatt per cell): for a page of 50 enrollments that was about as long as the rest of the page together.
`render_rows` writes the same HTML, character for character (tests/backoffice/test_enrollment_list_scale.py and
test_traeger_scale.py compare both, with modeladmin's own ButtonHelper), from the same pieces: modeladmin's own
lookup of a column's value (found once per column, `_Column`), Django's display of a field, the view's buttons
(`RowButtonHelper`: each button's texts built and its URL reversed once per request).
"""

from __future__ import annotations

import datetime
import html
import re

from django.contrib.admin.templatetags.admin_list import result_headers
from django.contrib.admin.utils import display_for_field, display_for_value, lookup_field, quote
from django.core.exceptions import ObjectDoesNotExist
from django.db import models
from django.template.loader import get_template
from django.utils.encoding import force_str
from django.utils.functional import Promise
from django.utils.safestring import SafeString, mark_safe
from wagtail_modeladmin.helpers import ButtonHelper
from wagtail_modeladmin.options import ModelAdmin

_NOWRAP_FIELDS = (models.DateField, models.TimeField, models.ForeignKey)


def _esc(text) -> str:
    """django.utils.html.conditional_escape without its lazy-argument wrapper (a list page escapes about
    a thousand values; the wrapper cost more than the escaping)."""
    if isinstance(text, Promise):
        text = str(text)
    if hasattr(text, "__html__"):
        return text.__html__()
    return html.escape(str(text))


def _flatatt(attrs: dict) -> str:
    """django.forms.utils.flatatt."""
    if len(attrs) == 1 and type(attrs.get("class")) is str:  # a cell: only its classes (most of the calls)
        return f' class="{_esc(attrs["class"])}"'
    pairs = sorted((k, v) for k, v in attrs.items() if not isinstance(v, bool) and v is not None)
    flags = sorted(k for k, v in attrs.items() if v is True)
    return ("".join(f' {_esc(k)}="{_esc(v)}"' for k, v in pairs)
            + "".join(f" {_esc(k)}" for k in flags))


def _button(button) -> str:
    """modeladmin/includes/button.html for a button without icon, target or rel (else that template)."""
    if button.get("icon") or button.get("target") or button.get("rel"):
        return get_template("modeladmin/includes/button.html").render({"button": button}).removesuffix("\n")
    href = f' href="{_esc(button["url"])}"' if button.get("url") else ""
    return (f'\n<a{href} class="{_esc(button.get("classname", ""))}" '
            f'title="{_esc(button.get("title", ""))}">{_esc(button.get("label", ""))}</a>')


def _cell(view, result, field_name, primary_name):
    """One <td> as wagtail_modeladmin.templatetags.modeladmin_tags.items_for_result writes it."""
    modeladmin = view.model_admin
    empty_value_display = modeladmin.get_empty_value_display(field_name)
    row_classes = [f"field-{field_name}", "title"]
    try:
        f, attr, value = lookup_field(field_name, result, modeladmin)
    except ObjectDoesNotExist:
        result_repr = empty_value_display
    else:
        empty_value_display = getattr(attr, "empty_value_display", empty_value_display)
        if f is None or f.auto_created:
            allow_tags = getattr(attr, "allow_tags", False)
            boolean = getattr(attr, "boolean", False)
            if boolean or not value:
                allow_tags = True
            result_repr = display_for_value(value, empty_value_display, boolean)
            if allow_tags:
                result_repr = mark_safe(result_repr)
            if isinstance(value, (datetime.date, datetime.time)):
                row_classes.append("nowrap")
        else:
            if isinstance(f, models.ManyToOneRel):
                field_val = getattr(result, f.name)
                result_repr = empty_value_display if field_val is None else field_val
            else:
                result_repr = display_for_field(value, f, empty_value_display)
            if isinstance(f, _NOWRAP_FIELDS):
                row_classes.append("nowrap")
    row_classes.extend(modeladmin.get_extra_class_names_for_field_col(result, field_name))
    attrs = _flatatt({**modeladmin.get_extra_attrs_for_field_col(result, field_name), "class": " ".join(row_classes)})
    return _td(view, result, attrs, result_repr, field_name == primary_name)


def _td(view, result, attrs: str, result_repr, primary: bool) -> str:
    """The <td> with the shown value (a non-breaking space for nothing); in the `primary` column a link to
    the row (its primary button: edit, else inspect)."""
    if force_str(result_repr) == "":
        result_repr = mark_safe("&nbsp;")
    shown = _esc(result_repr)
    if primary:
        button = view.button_helper.get_primary_button(result)
        if button is not None and button.get("url"):
            return (f'<td{attrs}><div class="title-wrapper"><a href="{_esc(button["url"])}" '
                    f'title="{_esc(button.get("title", ""))}">{shown}</a></div></td>')
    return f"<td{attrs}>{shown}</td>"


def _value_display(cell: str, buttons) -> str:
    """modeladmin/includes/result_row_value.html for the column that carries the buttons."""
    item, closing_tag = cell[:-5], cell[-5:]
    listed = ""
    if buttons:
        items = "".join(f"\n                <li>{_button(button)}\n</li>\n            " for button in buttons)
        listed = f'\n        <ul class="actions">\n            {items}\n        </ul>\n    '
    return f"\n{item}\n    {listed}\n    {closing_tag}\n\n"


class _Column:
    """What the cells of one column share, found once per table instead of once per cell: how the value is
    looked up (a field of the row, or a method of the modeladmin: `lookup_field`'s first two cases), the
    empty display and the <td>'s attributes. A column of another kind (an attribute of the row, an
    auto-created field), or a modeladmin that gives cells classes or attributes of their own, is written
    cell by cell by `_cell`."""

    def __init__(self, view, field_name: str, sample, primary_name):
        modeladmin = view.model_admin
        self.view, self.name, self.primary_name = view, field_name, primary_name
        self.primary = field_name == primary_name  # the column with the row's link and buttons
        self.per_cell = (_overrides(modeladmin, "get_extra_class_names_for_field_col")
                         or _overrides(modeladmin, "get_extra_attrs_for_field_col"))
        self.field = self.attr = self.choices = None
        self.as_text = False
        try:
            f, attr, _value = lookup_field(field_name, sample, modeladmin)
        except ObjectDoesNotExist:
            self.per_cell = True
            return
        empty = modeladmin.get_empty_value_display(field_name)
        classes = f"field-{field_name} title"
        if f is not None and not f.auto_created and not isinstance(f, models.ManyToOneRel):
            self.field = f
            if getattr(f, "flatchoices", None):
                try:
                    self.choices = dict(f.flatchoices)
                except TypeError:  # list-like choices: display_for_field per cell
                    pass
            # What display_for_field does for these, without its checks of the field's kind per cell: a
            # related row or a text shows as itself, and None or "" (a text's empty values) as empty.
            self.as_text = self.choices is None and (
                isinstance(f, models.ForeignKey)
                or (isinstance(f, (models.CharField, models.TextField)) and not isinstance(f, models.URLField)))
            self.attrs = _flatatt({"class": f"{classes} nowrap" if isinstance(f, _NOWRAP_FIELDS) else classes})
        elif f is None and (callable(field_name) or (hasattr(modeladmin, field_name) and field_name != "__str__")):
            self.attr = attr
            self.boolean = getattr(attr, "boolean", False)
            self.allow_tags = getattr(attr, "allow_tags", False) or self.boolean
            empty = getattr(attr, "empty_value_display", empty)
            self.attrs, self.attrs_nowrap = _flatatt({"class": classes}), _flatatt({"class": f"{classes} nowrap"})
        else:
            self.per_cell = True
        self.empty = empty

    def cell(self, obj) -> str:
        """One <td> as `_cell` writes it."""
        if self.per_cell:
            return _cell(self.view, obj, self.name, self.primary_name)
        attrs = self.attrs
        try:
            if self.field is not None:
                value = getattr(obj, self.name)
                if self.choices is not None:
                    result_repr = self.choices.get(value, self.empty)
                elif self.as_text and (value is None or type(value) is str or isinstance(value, models.Model)):
                    result_repr = self.empty if value is None or value == "" else str(value)
                else:
                    result_repr = display_for_field(value, self.field, self.empty)
            else:
                value = self.attr(obj)
                result_repr = display_for_value(value, self.empty, self.boolean)
                if self.allow_tags or not value:
                    result_repr = mark_safe(result_repr)
                if isinstance(value, (datetime.date, datetime.time)):
                    attrs = self.attrs_nowrap
        except ObjectDoesNotExist:
            return _cell(self.view, obj, self.name, self.primary_name)
        return _td(self.view, obj, attrs, result_repr, self.primary)


class RowButtonHelper(ButtonHelper):
    """modeladmin's ButtonHelper for lists of many rows: the same buttons, but each kind's label, title
    and classes built once per request (ButtonHelper translates them anew for every row), its URL the
    action's URL reversed once per request with the row's key put in, and each row's permission for an
    action asked once for both the primary button and the row's buttons."""

    def __init__(self, view, request):
        super().__init__(view, request)
        self._made: dict = {}  # (action, classes added, classes excluded): the button without its URL
        self._urls: dict = {}  # action: the parts of its URL around the row's key
        self._may: dict = {}  # (action, key): whether the user may

    def inspect_button(self, pk, classnames_add=None, classnames_exclude=None):
        return self._button("inspect", pk, classnames_add, classnames_exclude, super().inspect_button)

    def edit_button(self, pk, classnames_add=None, classnames_exclude=None):
        return self._button("edit", pk, classnames_add, classnames_exclude, super().edit_button)

    def delete_button(self, pk, classnames_add=None, classnames_exclude=None):
        return self._button("delete", pk, classnames_add, classnames_exclude, super().delete_button)

    def get_buttons_for_obj(self, obj, exclude=None, classnames_add=None, classnames_exclude=None):
        """ButtonHelper.get_buttons_for_obj, each permission asked once per row."""
        exclude = exclude or []
        pk = getattr(obj, self.opts.pk.attname)
        return [getattr(self, f"{action}_button")(pk, classnames_add, classnames_exclude)
                for action in ("inspect", "edit", "delete") if action not in exclude and self._allowed(action, obj, pk)]

    def get_primary_button(self, obj):
        """ButtonHelper.get_primary_button, each permission asked once per row."""
        pk = getattr(obj, self.opts.pk.attname)
        for action in ("edit", "inspect"):
            if self._allowed(action, obj, pk):
                return getattr(self, f"{action}_button")(pk)
        return None

    def _allowed(self, action: str, obj, pk) -> bool:
        key = (action, pk)
        if key not in self._may:
            self._may[key] = getattr(self.permission_helper, f"user_can_{action}_obj")(self.request.user, obj)
        return self._may[key]

    def _button(self, action, pk, classnames_add, classnames_exclude, build) -> dict:
        made_key = (action, tuple(classnames_add or ()), tuple(classnames_exclude or ()))
        made = self._made.get(made_key)
        if made is None:
            made = self._made[made_key] = build(pk, classnames_add, classnames_exclude)
            return dict(made)
        return {**made, "url": self._url(action, pk)}

    def _url(self, action: str, pk) -> str:
        """`url_helper.get_action_url(action, quote(pk))`: a key that the URL pattern takes as it is (letters,
        digits, _ and -; an integer key always) goes between the parts of the action's URL reversed once."""
        key = str(quote(pk))
        if not (key.isascii() and _PLAIN_KEY.fullmatch(key)):
            return self.url_helper.get_action_url(action, key)
        parts = self._urls.get(action)
        if parts is None:
            url = self.url_helper.get_action_url(action, _KEY_MARK)
            if url.count(_KEY_MARK) != 1:
                return self.url_helper.get_action_url(action, key)
            parts = self._urls[action] = tuple(url.split(_KEY_MARK))
        return f"{parts[0]}{key}{parts[1]}"


_PLAIN_KEY = re.compile(r"[-\w]+")
_KEY_MARK = "workpro-row-key"


def _overrides(modeladmin, name: str) -> bool:
    return getattr(type(modeladmin), name) is not getattr(ModelAdmin, name)


def render_rows(view, object_list, request) -> SafeString:
    """The <tr> rows of `object_list` inside modeladmin/includes/result_list.html's <tbody>, with the
    whitespace its templates leave between them."""
    modeladmin = view.model_admin
    object_list = list(object_list)
    if not object_list:
        return mark_safe("")
    primary_name = modeladmin.get_list_display_add_buttons(request)
    columns = [_Column(view, field_name, object_list[0], primary_name) for field_name in view.list_display]
    rows = []
    for index, obj in enumerate(object_list):
        row_attrs = modeladmin.get_extra_attrs_for_row(obj, {"request": request, "view": view})
        row_attrs["data-object-pk"] = obj.pk
        odd_or_even = "odd" if index % 2 == 0 else "even"
        row_attrs["class"] = f'{row_attrs["class"]} {odd_or_even}' if "class" in row_attrs else odd_or_even
        flat = _flatatt(row_attrs)
        buttons = view.get_buttons_for_obj(obj)
        cells = []
        for column in columns:
            cell = column.cell(obj)
            if column.primary:
                cells.append(f"\n        {_value_display(cell, buttons)}\n    ")
            else:
                cells.append(f"\n        \n{cell}\n\n    ")
        rows.append(f"\n                \n<tr{flat}>\n    {''.join(cells)}\n</tr>\n\n            ")
    return mark_safe("".join(rows))


def render_table(view, rows, request) -> SafeString:
    """modeladmin's {% result_list %} (the same HTML), its rows written by `render_rows`."""
    headers = list(result_headers(view))
    return get_template("workpro_plugin/admin/enrollment_result_list.html").render({
        "view": view, "result_headers": headers, "results": rows,
        "num_sorted_fields": sum(1 for h in headers if h["sortable"] and h["sorted"]),
        "rows": render_rows(view, rows, request)}, request)


class RowsWrittenIndexView:
    """For a modeladmin IndexView (in front of it): the page's table written by `render_table`, shown by
    workpro_plugin/admin/rows_written_index.html in place of {% result_list %} (a list of 100 institutions
    spent most of its time in modeladmin's per-row and per-cell templates)."""

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if context.get("all_count"):
            context["rows_table"] = render_table(self, context["object_list"], self.request)
        return context
