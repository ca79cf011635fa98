"""Optional integrations (SQLAlchemy, FastAPI, OpenTelemetry): import the one you need.

Nothing here is imported by ``layerguard.runtime`` itself, so the core stays importable with
none of the extras installed.
"""
