"""Two-factor enrolment: the mailed link and an opened, unconfirmed device."""


def two_factor_link(user) -> str:
    """The path of the newest enrolment link mailed to `user` (read from the outbox, as the mailbox would)."""
    from workpro_plugin.models import OutboxMessage

    message = OutboxMessage.objects.filter(recipient=user.email, template="two_factor_enrolment").latest("pk")
    return message.context["link_path"]


def open_two_factor_enrolment(client, user, **extra):
    """Mail `user` an enrolment link and open it in `client` (logged in as `user`): returns the device
    whose first code confirms it."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from workpro_plugin.services import two_factor

    two_factor.enrolment_request(user=user, by=user)
    response = client.post(two_factor_link(user), **extra)
    assert response.status_code == 302, response.status_code
    return TOTPDevice.objects.get(user=user, confirmed=False)
