"""Keep the German and English catalogues complete.

    python scripts/i18n.py             # makemessages, fill de, apply scripts/translations/*.json, compile
    python scripts/i18n.py apply F     # also take English translations from JSON file F

Each feature keeps its English translations in scripts/translations/<topic>.json,
so they can be applied again after a merge regenerated the catalogues.

Source strings are German (the seed's labels, verbatim), so the German catalogue
is the identity and only English needs translating.
"""

import json
import subprocess
import sys
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parent.parent
CATALOGUES = ["locale", "home/locale", "workpro_plugin/locale"]
IGNORES = ["--ignore=.venv", "--ignore=tests", "--ignore=bench", "--ignore=scripts", "--ignore=build"]


def manage(*args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, check=True)


def main() -> int:
    translations = {}
    for path in sorted((ROOT / "scripts" / "translations").glob("*.json")):  # every feature's translations
        translations.update(json.loads(path.read_text(encoding="utf-8")))
    if len(sys.argv) == 3 and sys.argv[1] == "apply":
        translations = json.loads(Path(sys.argv[2]).read_text(encoding="utf-8"))
    manage("makemessages", "-l", "de", "-l", "en", "--no-obsolete", *IGNORES)
    missing = []
    for catalogue in CATALOGUES:
        de = polib.pofile(ROOT / catalogue / "de/LC_MESSAGES/django.po")
        for entry in de:
            entry.flags = [f for f in entry.flags if f != "fuzzy"]
            if entry.msgid_plural:
                entry.msgstr_plural = {0: entry.msgid, 1: entry.msgid_plural}
            else:
                entry.msgstr = entry.msgid
        de.metadata["Language"] = "de"
        de.metadata["Plural-Forms"] = "nplurals=2; plural=(n != 1);"
        de.save()
        en = polib.pofile(ROOT / catalogue / "en/LC_MESSAGES/django.po")
        for entry in en:
            if "fuzzy" in entry.flags:
                entry.flags.remove("fuzzy")
                entry.msgstr = ""
            if entry.msgid in translations:
                value = translations[entry.msgid]
                if entry.msgid_plural:
                    entry.msgstr_plural = {0: value[0], 1: value[1]}
                else:
                    entry.msgstr = value
            if (entry.msgid_plural and not all(entry.msgstr_plural.values())) or (
                not entry.msgid_plural and not entry.msgstr
            ):
                missing.append(f"{catalogue}: {entry.msgid!r}")
        en.metadata["Language"] = "en"
        en.metadata["Plural-Forms"] = "nplurals=2; plural=(n != 1);"
        en.save()
    manage("compilemessages", *IGNORES)
    for line in missing:
        print("untranslated:", line)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
