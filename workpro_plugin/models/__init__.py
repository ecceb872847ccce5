from ..lib.choices import (
    CLOSED_STATUSES,
    OPEN_STATUSES,
    PLACE_HOLDING_STATUSES,
    PLACE_TAKING_STATUSES,
    PLACE_TAKING_TRANSITIONS,
    STANDING_STATUSES,
    ApplicationSection,
    AuditAction,
    DecisionBasis,
    EnrollmentStatus,
    SchemaType,
    SectionPhase,
)
from .audit import AuditEvent
from .care import EmergencyContact, PickupPerson
from .chat import CannedReply, Conversation, ConversationEvent, ConversationRead, Message
from .enrollment import Document, Enrollment, EnrollmentLog, EnrollmentSection, FeePeriod
from .fees import FeeBracket, FeeSchedule
from .institutions import Institution, Operator
from .offer_taxonomy import AgeGroup, OfferCategory
from .offers import OfferIndexPage, OfferPage, OfferSection
from .operations import Heartbeat
from .outbox import OutboxMessage
from .pages import HelpPage
from .people import ISSUED_PASSWORD_VALIDITY, Guardian, LoginChange, NumberSequence, Person
from .privacy import Consent, PrivacyLog
from .texts import TERM_FIELDS, ContractTerms, MailText
from .two_factor import TwoFactorEnrolment

__all__ = [
    "Heartbeat",
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
    "FeePeriod",
    "Guardian",
    "NumberSequence",
    "ISSUED_PASSWORD_VALIDITY",
    "LoginChange",
    "OutboxMessage",
    "Person",
    "AgeGroup",
    "SchemaType",
    "PLACE_HOLDING_STATUSES",
    "PLACE_TAKING_STATUSES",
    "PLACE_TAKING_TRANSITIONS",
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
    "ContractTerms",
    "MailText",
    "TERM_FIELDS",
]

from ..lib.choices import HOLDING_STATUSES, AddonBookingStatus  # noqa: E402
from .addons import AddonBooking  # noqa: E402
from .allocation import AllocationResult, AllocationRound, Criterion, CriterionConfirmation  # noqa: E402
from .apps import App, AppAcceptance, AppAssignment  # noqa: E402

__all__ += ["AddonBooking", "AddonBookingStatus", "HOLDING_STATUSES", "App", "AppAcceptance", "AppAssignment",
            "AllocationResult", "AllocationRound", "Criterion", "CriterionConfirmation"]
