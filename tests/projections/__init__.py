"""Tests of the read models, each on an SQLite file and on a PostgreSQL schema."""
