from .enrollment import PLACE_TAKING_STATUSES, Enrollment, EnrollmentStatus
from .fees import FeeBracket, FeeSchedule
from .institutions import Institution, Operator
from .offers import (
    AGE_GROUPS,
    ApplicationSection,
    OfferCategory,
    OfferIndexPage,
    OfferPage,
    OfferSection,
    SectionPhase,
)
from .pages import HelpPage

__all__ = [
    "AGE_GROUPS",
    "PLACE_TAKING_STATUSES",
    "ApplicationSection",
    "Enrollment",
    "EnrollmentStatus",
    "FeeBracket",
    "FeeSchedule",
    "HelpPage",
    "Institution",
    "OfferCategory",
    "OfferIndexPage",
    "OfferPage",
    "OfferSection",
    "Operator",
    "SectionPhase",
]
