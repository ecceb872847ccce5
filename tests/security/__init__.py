"""Hardening (`make check-security`): headers, 2FA, permissions, bad input, uploads, scopes across institutions."""
