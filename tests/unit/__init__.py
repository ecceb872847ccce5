"""Pure code: lib helpers, settings and catalogues, the layout of the plugin and of these tests."""
