"""The rows of a modeladmin list as wagtail-modeladmin renders them, without its per-row and per-cell templates.

modeladmin renders each row through an inclusion tag and each cell through another (with format_html and
flatatt per cell): for a page of 50 enrollments that was about as long as the rest of the page together.
`render_rows` writes the same HTML, character for character (tests/backoffice/test_enrollment_list_rows.py
compares both), from the same pieces: modeladmin's own lookup of a column's value, Django's display of a
field, the view's buttons.
"""

from __future__ import annotations

import datetime

from django.contrib.admin.templatetags.admin_list import result_headers
from django.contrib.admin.utils import display_for_field, display_for_value, lookup_field
from django.core.exceptions import ObjectDoesNotExist
from django.db import models
from django.template.loader import get_template
from django.utils.encoding import force_str
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

_NOWRAP_FIELDS = (models.DateField, models.TimeField, models.ForeignKey)


def _flatatt(attrs: dict) -> str:
    """django.forms.utils.flatatt."""
    if len(attrs) == 1 and type(attrs.get("class")) is str:  # a cell: only its classes (most of the calls)
        return f' class="{conditional_escape(attrs["class"])}"'
    pairs = sorted((k, v) for k, v in attrs.items() if not isinstance(v, bool) and v is not None)
    flags = sorted(k for k, v in attrs.items() if v is True)
    return ("".join(f' {conditional_escape(k)}="{conditional_escape(v)}"' for k, v in pairs)
            + "".join(f" {conditional_escape(k)}" for k in flags))


def _button(button) -> str:
    """modeladmin/includes/button.html for a button without icon, target or rel (else that template)."""
    if button.get("icon") or button.get("target") or button.get("rel"):
        return get_template("modeladmin/includes/button.html").render({"button": button}).removesuffix("\n")
    href = f' href="{conditional_escape(button["url"])}"' if button.get("url") else ""
    return (f'\n<a{href} class="{conditional_escape(button.get("classname", ""))}" '
            f'title="{conditional_escape(button.get("title", ""))}">{conditional_escape(button.get("label", ""))}</a>')


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
    if force_str(result_repr) == "":
        result_repr = mark_safe("&nbsp;")
    row_classes.extend(modeladmin.get_extra_class_names_for_field_col(result, field_name))
    attrs = _flatatt({**modeladmin.get_extra_attrs_for_field_col(result, field_name), "class": " ".join(row_classes)})
    shown = conditional_escape(result_repr)
    if field_name == primary_name:
        primary = view.button_helper.get_primary_button(result)
        if primary is not None and primary.get("url"):
            return (f'<td{attrs}><div class="title-wrapper"><a href="{conditional_escape(primary["url"])}" '
                    f'title="{conditional_escape(primary.get("title", ""))}">{shown}</a></div></td>')
    return f"<td{attrs}>{shown}</td>"


def _value_display(cell: str, buttons) -> str:
    """modeladmin/includes/result_row_value.html for the column that carries the buttons."""
    item, closing_tag = cell[:-5], cell[-5:]
    listed = ""
    if buttons:
        items = "".join(f"\n                <li>{_button(button)}\n</li>\n            " for button in buttons)
        listed = f'\n        <ul class="actions">\n            {items}\n        </ul>\n    '
    return f"\n{item}\n    {listed}\n    {closing_tag}\n\n"


def render_rows(view, object_list, request) -> SafeString:
    """The <tr> rows of `object_list` inside modeladmin/includes/result_list.html's <tbody>, with the
    whitespace its templates leave between them."""
    modeladmin = view.model_admin
    list_display = view.list_display
    primary_name = modeladmin.get_list_display_add_buttons(request)
    rows = []
    for index, obj in enumerate(object_list):
        row_attrs = modeladmin.get_extra_attrs_for_row(obj, {"request": request, "view": view})
        row_attrs["data-object-pk"] = obj.pk
        odd_or_even = "odd" if index % 2 == 0 else "even"
        row_attrs["class"] = f'{row_attrs["class"]} {odd_or_even}' if "class" in row_attrs else odd_or_even
        flat = _flatatt(row_attrs)
        buttons = view.get_buttons_for_obj(obj)
        cells = []
        for field_name in list_display:
            cell = _cell(view, obj, field_name, primary_name)
            if field_name == primary_name:
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
