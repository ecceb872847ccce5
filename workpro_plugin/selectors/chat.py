"""Chat reads: who may see a conversation, the lists with their unread counts, a thread's messages.

Access to an enrollment conversation follows the portal roles (access.portal_role):
the account holder and the participant with an own login read and write, a former
PSB1 in the 30 days after the participant came of age only reads. An offer question
belongs to the person who asked it. Staff are the institution's Sachbearbeitung and
Leitung; staff of another institution never see a conversation, nor its Textbausteine.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import (
    Count,
    F,
    FilteredRelation,
    Func,
    IntegerField,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce

from ..lib.compiled_sql import CompiledQuery
from ..models import CannedReply, Conversation, ConversationRead, Enrollment, Message
from .documents import unread_documents
from .enrollments import PortalScope, portal_enrollments, portal_scope
from .institutions import staff_institutions, staff_institutions_led_or_with

PAGE_SIZE = 50


def with_unread(queryset: QuerySet, user) -> QuerySet:
    """Annotate `unread`: visible messages by others after the user's read marker (one subquery per row)."""
    marker = ConversationRead.objects.filter(conversation=OuterRef("pk"), user=user).values("last_read_id")[:1]
    queryset = queryset.annotate(read_upto=Coalesce(Subquery(marker), Value(0), output_field=IntegerField()))
    unread = (Message.objects.filter(conversation=OuterRef("pk"), pk__gt=OuterRef("read_upto"),
                                     hidden_at__isnull=True)
              .exclude(author_id=user.pk).order_by().values("conversation")
              .annotate(n=Count("pk")).values("n"))
    return queryset.annotate(unread=Coalesce(Subquery(unread), Value(0), output_field=IntegerField()))


def _member_q(user) -> Q:
    return (Q(kind=Conversation.Kind.OFFER, started_by=user)
            | Q(kind=Conversation.Kind.ENROLLMENT, enrollment__in=portal_enrollments(user).values("pk")))


def portal_conversations(user) -> QuerySet:
    """The conversations `user` sees in Mein Konto, newest first, with unread counts."""
    if user is None or not user.is_authenticated:
        return Conversation.objects.none()
    queryset = (Conversation.objects.filter(_member_q(user), last_message_at__isnull=False)
                .select_related("offer", "institution", "enrollment__participant")
                .order_by("-last_message_at", "-pk"))
    return with_unread(queryset, user)


def portal_unread_total(user, scope: PortalScope | None = None) -> int:
    """Unread messages over all of the user's conversations (the count on the Mein Konto overview): the
    sum of `unread` over portal_conversations, as one COUNT of the messages themselves (after the user's
    read marker, a left join) in the conversations the PortalScope sees."""
    if user is None or not user.is_authenticated:
        return 0
    return _unread_messages(user, scope or portal_scope(user)).count()


def _unread_messages(user, scope: PortalScope):
    member = (Q(conversation__kind=Conversation.Kind.OFFER, conversation__started_by=user)
              | Q(scope.enrollment_q("conversation__enrollment__"), conversation__kind=Conversation.Kind.ENROLLMENT))
    return (Message.objects.annotate(marker=FilteredRelation("conversation__reads",
                                                              condition=Q(conversation__reads__user=user)))
            .filter(member, hidden_at__isnull=True)
            .filter(Q(marker__isnull=True) | Q(pk__gt=F("marker__last_read_id")))
            .exclude(author_id=user.pk).order_by())


def portal_unread_counts(scope: PortalScope) -> tuple[int, int]:
    """(new documents, unread messages) of Mein Konto's navigation: portal_unread_documents and
    portal_unread_total, as two counting subqueries of one query. Its SQL is compiled once per shape
    (lib.compiled_sql): building it with the ORM cost some sixty times what the database takes to run it."""
    user = scope.user
    if user is None or not user.is_authenticated:
        return 0, 0
    ids = {"user_id": user.pk, "ward_ids": scope.ward_ids}
    if scope.person is not None:
        ids["person_id"] = scope.person.pk
    return _UNREAD_COUNTS.row(**ids) or (0, 0)


def _unread_counts_query(user_id: int, ward_ids: list[int], person_id: int | None = None):
    scope = PortalScope.of_ids(user_id, ward_ids, person_id)

    def counted(queryset):
        return Subquery(queryset.annotate(n=Func(F("pk"), function="COUNT")).values("n"))

    return get_user_model().objects.filter(pk=user_id).values_list(
        counted(unread_documents(scope)), counted(_unread_messages(scope.user, scope)))


_UNREAD_COUNTS = CompiledQuery(_unread_counts_query)


def unread_count(conversation: Conversation | None, user) -> int:
    if conversation is None:
        return 0
    marker = ConversationRead.objects.filter(conversation=conversation, user=user).values_list(
        "last_read_id", flat=True).first() or 0
    return (conversation.messages.filter(pk__gt=marker, hidden_at__isnull=True).exclude(author_id=user.pk)
            .count())


def staff_conversations(user) -> QuerySet:
    """Conversations of the user's institutions, with what the inbox shows."""
    return (Conversation.objects.filter(institution__in=staff_institutions(user), last_message_at__isnull=False)
            .select_related("offer", "institution", "enrollment__participant", "started_by__workpro_person",
                            "assigned_to")
            .order_by("-last_message_at", "-pk"))


def institution_staff(institution) -> QuerySet:
    """Active members of the institution's Sachbearbeitung and Leitung: whom a thread can be assigned to."""

    groups = institution.staff_group_ids()
    return (get_user_model().objects.filter(is_active=True, groups__in=groups).distinct()
            .order_by("last_name", "first_name", "email"))


@dataclass(frozen=True)
class ThreadPage:
    messages: list[Message]
    older_than: int | None  # the id to pass as ?vor= for the previous page, or None when this is the start
    is_latest: bool


def thread_page(conversation: Conversation, *, before: int | None = None, size: int = PAGE_SIZE) -> ThreadPage:
    """The latest `size` messages (or those before message id `before`), oldest first."""
    queryset = (conversation.messages.select_related("author__workpro_person", "attachment", "hidden_by")
                .order_by("-pk"))
    if before:
        queryset = queryset.filter(pk__lt=before)
    rows = list(queryset[: size + 1])
    has_older = len(rows) > size
    rows = rows[:size]
    rows.reverse()
    return ThreadPage(messages=rows, older_than=rows[0].pk if has_older and rows else None, is_latest=not before)


def messages_since(conversation: Conversation, *, after_id: int, changed_since=None) -> list[Message]:
    """New messages after `after_id`, and earlier ones edited or hidden since `changed_since` (for polling)."""
    condition = Q(pk__gt=after_id)
    if changed_since is not None:
        condition |= Q(changed_at__gt=changed_since)
    return list(conversation.messages.filter(condition)
                .select_related("author__workpro_person", "attachment", "hidden_by").order_by("pk")[:200])


def read_markers(conversation: Conversation) -> list[ConversationRead]:
    return list(conversation.reads.select_related("user__workpro_person"))


# --- Textbausteine (canned replies) -----------------------------------------------------------

# The placeholders a Textbaustein may name; anything else in braces is text.
PLACEHOLDER = re.compile(r"\{(vorname|name|angebot|einrichtung)\}")


def chat_staff_institutions(user) -> QuerySet:
    """The institutions whose messages `user` answers (is_chat_staff): their Textbausteine are the user's."""
    return staff_institutions_led_or_with(user, "workpro_plugin.process_enrollment")


def staff_canned_replies(user) -> QuerySet:
    """Textbausteine of the institutions the user answers for, with what the admin list shows."""
    return CannedReply.objects.filter(institution__in=chat_staff_institutions(user)).select_related(
        "institution", "offer")


@dataclass(frozen=True)
class CannedChoice:
    pk: int
    title: str
    text: str  # the body with its placeholders filled for one conversation


def fill_placeholders(text: str, values: dict[str, str]) -> str:
    """{vorname}, {name}, {angebot} and {einrichtung} are replaced in one pass; unknown ones, and known ones
    without a value, stay as written for staff to see.

    Never str.format: staff texts may contain any braces, and a filled-in value is not expanded again.
    """
    return PLACEHOLDER.sub(lambda match: values.get(match.group(1)) or match.group(0), text)


def placeholder_values(*, institution, offer, contact) -> dict[str, str]:
    """What the placeholders stand for: the contact (a user: their person's name, else the account's),
    the offer's title and the institution's name."""
    person = getattr(contact, "workpro_person", None) if contact is not None else None
    names = person or contact
    return {
        "vorname": getattr(names, "first_name", "") or "",
        "name": getattr(names, "last_name", "") or "",
        "angebot": offer.title if offer is not None else "",
        "einrichtung": institution.name,
    }


def canned_choices(*, institution, offer, contact) -> list[CannedChoice]:
    """The active Textbausteine for a reply about `offer` at `institution` (those of that offer and those for
    all offers), filled in for `contact`. One query."""
    replies = CannedReply.objects.filter(institution=institution, is_active=True)
    scope = Q(offer__isnull=True)
    if offer is not None:
        scope |= Q(offer=offer)
    values = placeholder_values(institution=institution, offer=offer, contact=contact)
    return [CannedChoice(pk, title, fill_placeholders(body, values))
            for pk, title, body in replies.filter(scope).order_by("title", "pk").values_list("pk", "title", "body")]


def conversation_contact(conversation: Conversation):
    """Whom a staff reply addresses: the asker of an offer question, the account holder of an enrollment."""
    if conversation.kind == Conversation.Kind.OFFER:
        return conversation.started_by
    return conversation.enrollment.account_holder if conversation.enrollment_id else None


def canned_choices_for_conversation(conversation: Conversation) -> list[CannedChoice]:
    return canned_choices(institution=conversation.institution, offer=conversation.offer,
                          contact=conversation_contact(conversation))


def canned_choices_for_enrollment(enrollment) -> list[CannedChoice]:
    """Before the enrollment has a conversation (the reply from its inspect view)."""
    return canned_choices(institution=enrollment.institution, offer=enrollment.offer,
                          contact=enrollment.account_holder)


# --- Rundnachricht: the families a message to a group reaches ------------------------------------

# Further groups within an offer (the waiting list, later): code -> (label, filter of an enrollment queryset).
BROADCAST_GROUPS: dict[str, tuple[str, object]] = {}


def register_broadcast_group(code: str, label, narrow) -> None:
    """Add a recipient group to the Rundnachricht form: `narrow(enrollments)` returns the group's enrollments."""
    BROADCAST_GROUPS[code] = (label, narrow)


def broadcast_enrollments(user, *, offer, status: str = "", group: str = "") -> QuerySet:
    """One enrollment per family (account holder) of `offer` in the institutions `user` answers messages for,
    optionally of one status or group: a parent with two children in the offer gets the message once, in the
    conversation of the first enrollment. Withdrawn enrollments are never written to."""
    enrollments = Enrollment.objects.filter(offer=offer, institution__in=chat_staff_institutions(user),
                                            account_holder__is_active=True).exclude(
        status=Enrollment.Status.ZURUECKGEZOGEN)
    if status:
        enrollments = enrollments.filter(status=status)
    if group:
        enrollments = BROADCAST_GROUPS[group][1](enrollments)
    first = enrollments.order_by().values("account_holder").annotate(first=Min("pk")).values("first")
    return (Enrollment.objects.filter(pk__in=first)
            .select_related("institution__site", "offer", "account_holder__workpro_person", "participant__user",
                            "conversation")
            .order_by("pk"))
