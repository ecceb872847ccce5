"""A host's custom user model with the email address as USERNAME_FIELD (#17).

Used only by the custom-user run (tests/custom_user/settings.py, see .ci/run and `make
test-custom-user`): the same registration, login, password-request and participant-login tests
run against it in a database of their own.
"""
