"""The registry's test suite: the same cases run on an SQLite file and on PostgreSQL."""
