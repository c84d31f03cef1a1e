"""The Bewijslast ledger: the format of LEDGER.md and its verifier.

Depends on the standard library and ``cryptography`` only, so that it can be handed to an
auditor on its own (``python -m ledger verify ...``).
"""
