"""Read queries, one module per feature, each owning its joins."""
