"""Tests of the domain: aggregates on their own, and the application on real backends."""
