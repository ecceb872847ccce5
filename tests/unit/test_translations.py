"""German and English catalogues are complete and compiled."""

from pathlib import Path

import polib
import pytest

ROOT = Path(__file__).resolve().parents[2]
CATALOGUES = sorted(ROOT.glob("*/locale/*/LC_MESSAGES/django.po")) + sorted(
    ROOT.glob("locale/*/LC_MESSAGES/django.po")
)


def test_catalogues_exist_for_both_languages():
    languages = {path.parts[-3] for path in CATALOGUES}
    assert languages == {"de", "en"}
    assert any("workpro_plugin" in str(path) for path in CATALOGUES)


@pytest.mark.parametrize("po_path", CATALOGUES, ids=lambda p: str(p.relative_to(ROOT)))
def test_catalogue_is_complete_and_compiled(po_path):
    po = polib.pofile(po_path)
    assert po.untranslated_entries() == []
    assert po.fuzzy_entries() == []
    mo = polib.mofile(po_path.with_suffix(".mo"))
    compiled = {entry.msgid: entry.msgstr for entry in mo}
    for entry in po.translated_entries():
        if not entry.msgid_plural:
            assert compiled.get(entry.msgid) == entry.msgstr, f"recompile {po_path}: {entry.msgid!r}"
