"""Tamper-evident audit ledger: an RFC 9162 Merkle tree over stored events, signed checkpoints."""
