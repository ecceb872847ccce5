"""Today, as the code under test sees it, for test modules that keep it in a module-level TODAY.

Test modules compute ``TODAY = timezone.localdate()`` once, at import. A run that crosses
midnight in Europe/Berlin (CI at 23:xx UTC) then compares yesterday's TODAY with the code's
today. The autouse fixture in conftest refreshes every loaded ``tests`` module's TODAY before
each test, so a test and the code it calls agree on the date.
"""

import sys
from datetime import date

from django.utils import timezone


def refresh_today() -> date:
    today = timezone.localdate()
    for name, module in list(sys.modules.items()):
        if module is None or not (name == "tests" or name.startswith("tests.")):
            continue
        if isinstance(getattr(module, "TODAY", None), date):
            module.TODAY = today
    return today
