"""The Wagtail admin face of WorkPro: admin classes, views and forms for staff."""
