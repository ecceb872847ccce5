"""Read queries (workpro_plugin.selectors) tested on their own; the views' query counts live with the views."""
