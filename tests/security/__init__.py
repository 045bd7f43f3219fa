"""Tests of the security package: envelope, keys, ledger, tokens."""
