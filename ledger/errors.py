"""One error type per way a ledger can fail to verify (LEDGER.md section 6).

Every failure names the check, the first failing index (where there is one), what was
expected and what was found, so that a tamper report can be acted on.
"""

from __future__ import annotations


class LedgerError(Exception):
    """Base of every error raised by the ledger package."""


class MalformedInput(LedgerError):
    """The input cannot be read at all (exit status 2): not a tamper finding."""


class VerificationFailure(LedgerError):
    """Something the verifier checks does not hold (exit status 1)."""

    check: str = "verification"

    def __init__(
        self,
        message: str,
        *,
        index: int | None = None,
        expected: object = None,
        found: object = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.index = index
        self.expected = expected
        self.found = found

    def __str__(self) -> str:
        where = f"index {self.index}: " if self.index is not None else ""
        text = f"{where}{self.check}: {self.message}"
        if self.expected is not None or self.found is not None:
            text += f" (expected {self.expected}, found {self.found})"
        return text


class LeafHashMismatch(VerificationFailure):
    check = "leaf-hash"


class StateHashMismatch(VerificationFailure):
    check = "state-hash"


class ChainMismatch(VerificationFailure):
    check = "chain"


class StreamLinkBroken(VerificationFailure):
    check = "stream-link"


class IndexNotDense(VerificationFailure):
    check = "dense-index"


class TimeWentBackwards(VerificationFailure):
    check = "recorded-at"


class BadSignature(VerificationFailure):
    check = "signature"


class RootMismatch(VerificationFailure):
    check = "checkpoint-root"


class InconsistentCheckpoints(VerificationFailure):
    check = "consistency"


class BadInclusionProof(VerificationFailure):
    check = "inclusion"


class BadConsistencyProof(VerificationFailure):
    check = "consistency-proof"


class Truncated(VerificationFailure):
    check = "truncation"


class ReceiptMismatch(VerificationFailure):
    check = "receipt"
