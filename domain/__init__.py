"""The registry's domain: partners, engagements, risk assessments and due-diligence decisions.

Imports only the standard library and ``eventsourcing``; storage, crypto and the API plug in
from outside through the library's extension points.
"""
