"""A person's name and age (lib/people.py), and that Person and the allocation's Child answer alike."""

from datetime import date

import pytest

from workpro_plugin.lib.people import age_on, full_name
from workpro_plugin.models import Person
from workpro_plugin.services.allocation import Child


@pytest.mark.parametrize(("born", "day", "age"), [
    (date(2020, 8, 1), date(2023, 7, 31), 2),   # the day before the birthday
    (date(2020, 8, 1), date(2023, 8, 1), 3),    # on the birthday
    (date(2020, 2, 29), date(2023, 2, 28), 2),  # born on 29 February: a year older on 1 March
    (date(2020, 2, 29), date(2023, 3, 1), 3),
    (date(2020, 2, 29), date(2024, 2, 29), 4),
    (None, date(2023, 1, 1), None),
])
def test_age_in_completed_years(born, day, age):
    assert age_on(born, day) == age
    person = Person(first_name="Mia", last_name="Muster", date_of_birth=born)
    child = Child(1, "Mia", "Muster", born, "04109", "Leipzig", None)
    assert person.age_on(day) == child.age_on(day) == age


def test_full_name_without_a_first_name_has_no_leading_space():
    assert full_name("Mia", "Muster") == "Mia Muster"
    assert full_name("", "Muster") == "Muster"
    assert Person(first_name="", last_name="Muster").full_name == Child(1, "", "Muster", None, "", "", None).full_name
