from .audit import AuditAction, AuditEvent
from .care import EmergencyContact, PickupPerson
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
from .people import ISSUED_PASSWORD_VALIDITY, Guardian, LoginChange, NumberSequence, Person
from .chat import CannedReply, Conversation, ConversationEvent, ConversationRead, Message
from .privacy import Consent, PrivacyLog
from .two_factor import TwoFactorEnrolment

__all__ = [
    "AuditAction",
    "AuditEvent",
    "EmergencyContact",
    "PickupPerson",
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
    "LoginChange",
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
    "CannedReply",
    "Conversation",
    "ConversationEvent",
    "ConversationRead",
    "Message",
    "Consent",
    "PrivacyLog",
    "TwoFactorEnrolment",
]

from .addons import HOLDING_STATUSES, AddonBooking, AddonBookingStatus  # noqa: E402
from .apps import App, AppAcceptance, AppAssignment  # noqa: E402

__all__ += ["AddonBooking", "AddonBookingStatus", "HOLDING_STATUSES", "App", "AppAcceptance", "AppAssignment"]
