"""Pure helpers and constants (texts, form fields, fees, phone numbers); they import no WorkPro module."""
