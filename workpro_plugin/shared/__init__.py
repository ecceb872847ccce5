"""Presentation both faces use (portal and Wagtail admin): chat thread, chat forms."""
