"""A Wagtail site as `wagtail start` makes it, for the tests of what WorkPro needs of its host.

`bare` adds only "workpro_plugin" to INSTALLED_APPS; `configured` appends the README's settings
block (`configure(globals())`) and `urls_configured` its urls block.
"""
