"""Run every bench/bench_*.py against a throw-away SQLite database and print figures.

    make bench                 # all benchmarks
    .venv/bin/python bench/run.py homepage   # only bench_homepage.py
    BENCH_SCALE=0.3 make bench                 # fewer repetitions per figure (busy machine)
    BENCH_ADMIN_ENROLLMENTS=10000 make bench   # a smaller staff enrollment list
"""

import importlib
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def setup_django() -> None:
    tmp = tempfile.mkdtemp(prefix="workpro-bench-")
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{tmp}/bench.sqlite3")
    os.environ["DJANGO_SETTINGS_MODULE"] = "workpro_site.settings.test"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def main(selected: list[str]) -> None:
    setup_django()
    modules = sorted(p.stem for p in (ROOT / "bench").glob("bench_*.py"))
    if selected:
        modules = [m for m in modules if m.removeprefix("bench_") in selected]
    for name in modules:
        module = importlib.import_module(f"bench.{name}")
        print(f"\n## {name}: {module.__doc__.strip().splitlines()[0]}")
        started = time.perf_counter()
        module.run()
        print(f"   ({time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    main(sys.argv[1:])
