"""Run-time half of layerguard: the operation registry and its integrations."""
