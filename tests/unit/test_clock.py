"""A run that crosses midnight: the test modules' TODAY follows the code's today (tests/clock.py).

CI once ran at 23:xx UTC, the modules were imported on 30 November in Berlin and the code ran on
1 December: five tests compared a deadline the code counted from the 1st with TODAY, the 30th.
"""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import time_machine
from django.utils import timezone

from tests import clock, form_table

BERLIN = ZoneInfo("Europe/Berlin")
TODAY = timezone.localdate()  # as every test module keeps it


def test_after_midnight_every_loaded_test_modules_today_is_the_codes_new_today():
    with time_machine.travel(datetime(2026, 11, 30, 23, 59, tzinfo=BERLIN), tick=False) as traveller:
        clock.refresh_today()
        assert globals()["TODAY"] == date(2026, 11, 30)

        traveller.shift(timedelta(minutes=2))  # 00:01 on 1 December in Berlin, still 23:01 UTC
        assert clock.refresh_today() == timezone.localdate() == date(2026, 12, 1)
        assert globals()["TODAY"] == date(2026, 12, 1)
        assert form_table.day(0) == "2026-12-01"
    clock.refresh_today()


def test_each_test_starts_with_the_codes_today():
    assert TODAY == form_table.TODAY == timezone.localdate()
