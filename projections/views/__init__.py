"""The registry's views: importing this package registers every view's event handlers."""

from projections.views import access_log, assessments, decisions, engagements, history, partners

__all__ = ["access_log", "assessments", "decisions", "engagements", "history", "partners"]
