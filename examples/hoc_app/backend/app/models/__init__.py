"""L7 models: importing the package registers every table on ``Base.metadata``."""

from app.models.base import Base
from app.models.incident import Incident
from app.models.policy import Policy

__all__ = ["Base", "Incident", "Policy"]
