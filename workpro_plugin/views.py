"""Old dotted paths for hosts' settings: the portal views moved to workpro_plugin.portal.views (#16).

A host may still name AXES_LOCKOUT_CALLABLE = "workpro_plugin.views.lockout" and
AXES_USERNAME_CALLABLE = "workpro_plugin.views.axes_username"; the design keeps dotted paths
named by settings working, so only these two names are re-exported. Nothing in WorkPro imports
this module; new code and settings use workpro_plugin.portal.views.accounts.
"""

from .portal.views.accounts import axes_username, lockout

__all__ = ["axes_username", "lockout"]
