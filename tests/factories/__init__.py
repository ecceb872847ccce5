"""Small builders for tests (no demo data), one module per entity.

Import them from here (`from tests.factories import make_user`); the modules are
the place to add a builder.
"""

from tests.factories.allocation import wish
from tests.factories.documents import add_signed_copy, pdf_bytes
from tests.factories.enrollments import S, complete_sections, enrollment_in, mark_printed
from tests.factories.families import families_in_offer, helped_family, krippe_families
from tests.factories.institutions import make_institution
from tests.factories.offers import make_offer, require_sections, set_questions
from tests.factories.people import make_child, make_user
from tests.factories.signing import give_signing_key, participant_signed_pdf
from tests.factories.two_factor import open_two_factor_enrolment, two_factor_link
from tests.factories.world import make_world

__all__ = [
    "S",
    "add_signed_copy",
    "complete_sections",
    "enrollment_in",
    "families_in_offer",
    "helped_family",
    "krippe_families",
    "give_signing_key",
    "make_child",
    "make_institution",
    "make_offer",
    "make_user",
    "make_world",
    "mark_printed",
    "open_two_factor_enrolment",
    "participant_signed_pdf",
    "pdf_bytes",
    "require_sections",
    "set_questions",
    "two_factor_link",
    "wish",
]
