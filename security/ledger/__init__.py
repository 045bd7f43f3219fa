"""Tamper-evident audit ledger: an RFC 9162 Merkle tree over stored events, signed checkpoints.

Entry points: `AuditLedger` (integrate, checkpoint, proofs), `verify_store`, `verify_proof`.
"""

from security.ledger.checkpoint import (
    Checkpoint,
    CheckpointError,
    CheckpointSigner,
    load_signer,
    parse_checkpoint,
    verify_checkpoint,
)
from security.ledger.ledger import AuditLedger, EventNotInLedgerError
from security.ledger.merkle import ProofError
from security.ledger.proofs import (
    ConsistencyProof,
    InclusionProof,
    ProofFormatError,
    parse_proof,
    to_json,
)
from security.ledger.store import LedgerStoreError, StoredCheckpoint
from security.ledger.verify import ProofCheck, VerificationResult, verify_proof, verify_store

__all__ = [
    "AuditLedger",
    "Checkpoint",
    "CheckpointError",
    "CheckpointSigner",
    "ConsistencyProof",
    "EventNotInLedgerError",
    "InclusionProof",
    "LedgerStoreError",
    "ProofCheck",
    "ProofError",
    "ProofFormatError",
    "StoredCheckpoint",
    "VerificationResult",
    "load_signer",
    "parse_checkpoint",
    "parse_proof",
    "to_json",
    "verify_checkpoint",
    "verify_proof",
    "verify_store",
]
