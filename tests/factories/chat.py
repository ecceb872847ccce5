"""The chat's world: an enrollment thread's members in every role (tests/portal/test_chat.py and the Mein Konto
query tests share it)."""

from datetime import timedelta

from django.contrib.auth.models import Group, Permission
from django.utils import timezone

from workpro_plugin.models import Enrollment, Guardian
from workpro_plugin.services import chat as svc

from .enrollments import enrollment_in
from .people import make_user

S = Enrollment.Status


def chat_world(world):
    """An enrollment of the holder's adult participant (with own login), a former PSB1 in the handover
    window, an expired former guardian, and an editor with admin access but no institution."""
    today = timezone.localdate()
    world.participant_user = make_user("teilnehmer@example.org", date_of_birth=today.replace(year=today.year - 18))
    participant = world.participant_user.workpro_person
    world.former_psb1 = make_user("frueher-psb1@example.org")
    world.expired_guardian = make_user("abgelaufen@example.org")
    Guardian.objects.create(participant=participant, guardian=world.former_psb1.workpro_person, is_primary=True,
                            access_ends_on=today + timedelta(days=10))
    Guardian.objects.create(participant=participant, guardian=world.expired_guardian.workpro_person,
                            access_ends_on=today - timedelta(days=1))
    world.enrollment = enrollment_in(S.BEWERBER, offer=world.offer, institution=world.kita, holder=world.holder,
                                     participant=participant)
    world.editor = make_user("redaktion@kita.test", person=False)
    editors = Group.objects.create(name="Redaktion")
    editors.permissions.add(Permission.objects.get(codename="access_admin"))
    world.editor.groups.add(editors)
    return world


def start_enrollment_thread(world, by=None, body="Wann ist das Gespräch?"):
    conversation = svc.conversation_for_enrollment(enrollment=world.enrollment, by=by or world.holder)
    svc.message_post(conversation=conversation, by=by or world.holder, body=body, as_staff=False)
    conversation.refresh_from_db()
    return conversation
