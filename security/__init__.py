"""Encryption at rest, keys, the tamper-evident ledger, identity and permissions."""
