"""The staff back office in the Wagtail admin."""
