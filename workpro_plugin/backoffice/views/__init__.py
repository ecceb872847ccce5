"""Admin views of the backoffice face, one module per feature."""
