"""The portal's one way to look an object up by id: "this object for this user, or 404".

A miss is audited (access denied) and answers 404, so ids of other people's objects are
indistinguishable from ids that do not exist.
"""

from __future__ import annotations

from django.http import Http404
from django.urls import reverse_lazy

from ..access import (
    PortalRole,
    member_access,
    needs_second_factor,
    portal_role,
    sees_ward_login,
    speaks_for,
)
from ..models import Conversation, Document, Enrollment, Person
from ..selectors.documents import portal_documents
from ..selectors.enrollments import portal_enrollments
from ..services import audit
from ..services.apps import assigned_app

LOGIN_URL = reverse_lazy("workpro:login")

ANY_ROLE = (PortalRole.HOLDER, PortalRole.PARTICIPANT, PortalRole.GUARDIAN)
HOLDER = (PortalRole.HOLDER,)


def _denied(request, object_type: str, pk) -> Http404:
    audit.denied(request, object_type=f"workpro_plugin.{object_type}", object_id=pk)
    return Http404()


def enrollment_or_404(request, pk: int, *, roles=ANY_ROLE) -> tuple[Enrollment, str]:
    """The enrollment and the user's PortalRole for it, if the role is one of `roles`.

    HOLDER alone for contract actions (sections, print, submit, withdraw, booking); ANY_ROLE to read.
    """
    enrollment = (portal_enrollments(request.user).select_related("offer", "institution", "participant")
                  .filter(pk=pk).first())
    role = portal_role(request.user, enrollment) if enrollment is not None else None
    if role is None or role not in roles:
        raise _denied(request, "enrollment", pk)
    return enrollment, role


def document_or_404(request, pk: int) -> tuple[Document, bool]:
    """A document the user may open in the portal, or as staff of its institution (with the second
    factor where required). Returns the document and whether the user opened it as its recipient."""
    document = portal_documents(request.user).filter(pk=pk).select_related("enrollment__institution").first()
    if document is not None:
        return document, True
    document = Document.objects.select_related("enrollment__institution", "owner").filter(pk=pk).first()
    user = request.user
    if (document is not None and document.enrollment is not None
            and document.enrollment.institution.is_staff_member(user) and not needs_second_factor(user)):
        return document, False
    raise _denied(request, "document", pk)


def conversation_or_404(request, pk: int) -> tuple[Conversation, str]:
    """A conversation the user is a member of, with the access (write or read)."""
    conversation = (Conversation.objects.select_related("offer", "institution", "enrollment__participant",
                                                        "enrollment__account_holder").filter(pk=pk).first())
    access = member_access(request.user, conversation) if conversation is not None else None
    if access is None:
        raise _denied(request, "conversation", pk)
    return conversation, access


def person_spoken_for_or_404(request, pk: int) -> Person:
    """A person the user acts for (themself with an own login, or a ward as PSB1)."""
    person = Person.objects.filter(pk=pk).first()
    if person is None or not speaks_for(request.user, person):
        raise _denied(request, "person", pk)
    return person


def ward_or_404(request, pk: int) -> Person:
    """A person whose PSB1 the user is (with or without an own login of the person)."""
    person = Person.objects.filter(pk=pk).first()
    if person is None or not sees_ward_login(request.user, person):
        raise _denied(request, "person", pk)
    return person


def assigned_app_or_404(request, app_id: int, person_id: int):
    """An app assigned to a person the user acts for, with that person."""
    found = assigned_app(request.user, app_id=app_id, person_id=person_id)
    if found is None:
        raise _denied(request, "app", app_id)
    return found
