"""Chat reads: who may see a conversation, the lists with their unread counts, a thread's messages.

Access to an enrollment conversation follows the portal roles (selectors.portal_role):
the account holder and the participant with an own login read and write, a former
PSB1 in the 30 days after the participant came of age only reads. An offer question
belongs to the person who asked it. Staff are the institution's Sachbearbeitung and
Leitung; staff of another institution never see a conversation, nor its Textbausteine.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from .models import CannedReply, Conversation, ConversationRead, Institution, Message, OfferPage
from .selectors import PortalRole, portal_enrollments, portal_role, staff_institutions

PAGE_SIZE = 50


class Access:
    WRITE = "write"
    READ = "read"


def member_access(user, conversation: Conversation) -> str | None:
    """Access.WRITE, Access.READ or None (then the conversation does not exist for `user`)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    if conversation.kind == Conversation.Kind.OFFER:
        return Access.WRITE if conversation.started_by_id == user.pk else None
    role = portal_role(user, conversation.enrollment)
    if role in (PortalRole.HOLDER, PortalRole.PARTICIPANT):
        return Access.WRITE
    if role == PortalRole.GUARDIAN:
        return Access.READ
    return None


def enrollment_member_access(user, enrollment) -> str | None:
    """The same rule before an enrollment has a conversation."""
    role = portal_role(user, enrollment)
    if role in (PortalRole.HOLDER, PortalRole.PARTICIPANT):
        return Access.WRITE
    return Access.READ if role == PortalRole.GUARDIAN else None


def is_chat_staff(user, institution) -> bool:
    """Sachbearbeitung (process permission) or Leitung of the institution; superusers everywhere."""
    if institution is None or not institution.is_staff_member(user):
        return False
    if institution.staff_can(user, "process_enrollment"):
        return True
    from .models.institutions import user_group_ids

    return institution.lead_group_id is not None and institution.lead_group_id in user_group_ids(user)


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


def portal_unread_total(user) -> int:
    """Unread messages over all of the user's conversations (the count on the Mein Konto overview)."""
    if user is None or not user.is_authenticated:
        return 0
    conversations = with_unread(Conversation.objects.filter(_member_q(user)).order_by(), user)
    return conversations.aggregate(total=Sum("unread"))["total"] or 0


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
    from django.contrib.auth import get_user_model

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

def chat_staff_institutions(user) -> QuerySet:
    """The institutions whose messages `user` answers (is_chat_staff): their Textbausteine are the user's."""
    if user is None or not user.is_authenticated or not user.is_active:
        return Institution.objects.none()
    if user.is_superuser:
        return Institution.objects.all()
    return Institution.objects.filter(pk__in=[i.pk for i in staff_institutions(user) if is_chat_staff(user, i)])


def staff_canned_replies(user) -> QuerySet:
    """Textbausteine of the institutions the user answers for, with what the admin list shows."""
    return CannedReply.objects.filter(institution__in=chat_staff_institutions(user)).select_related(
        "institution", "offer")


def institution_offers(institutions) -> QuerySet:
    """The offers below the institutions' homepages, by title."""
    offers = OfferPage.objects.none()
    for institution in institutions:
        offers = offers | OfferPage.objects.descendant_of(institution.site.root_page)
    return offers.order_by("title")
