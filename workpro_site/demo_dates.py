"""Date helpers the demo data modules share."""

from datetime import date


def years_before(day: date, years: int) -> date:
    """The same calendar day `years` earlier (28 February for a 29 February that did not exist)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)
