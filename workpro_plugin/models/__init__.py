from .enrollment import (
    CLOSED_STATUSES,
    OPEN_STATUSES,
    PLACE_TAKING_STATUSES,
    STANDING_STATUSES,
    DecisionBasis,
    Document,
    Enrollment,
    EnrollmentLog,
    EnrollmentSection,
    EnrollmentStatus,
)
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
from .people import ISSUED_PASSWORD_VALIDITY, Guardian, NumberSequence, Person
from .privacy import Consent, PrivacyLog

__all__ = [
    "STANDING_STATUSES",
    "CLOSED_STATUSES",
    "OPEN_STATUSES",
    "DecisionBasis",
    "Document",
    "EnrollmentLog",
    "EnrollmentSection",
    "Guardian",
    "NumberSequence",
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
    "Consent",
    "PrivacyLog",
]
