"""Service-level tests: workflows, the outbox, data protection, called below the views."""
