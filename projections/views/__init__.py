"""The registry's views: importing this package registers every view's event handlers."""

from projections.views import assessments, decisions, engagements, history, partners

__all__ = ["assessments", "decisions", "engagements", "history", "partners"]
