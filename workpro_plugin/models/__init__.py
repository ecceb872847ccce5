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
from .outbox import OutboxMessage
from .pages import HelpPage
from .people import ISSUED_PASSWORD_VALIDITY, Person

__all__ = [
    "ISSUED_PASSWORD_VALIDITY",
    "OutboxMessage",
    "Person",
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
