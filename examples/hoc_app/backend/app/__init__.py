"""hoc_app: the layerguard example, a small incident tracker in the hoc layer layout."""
