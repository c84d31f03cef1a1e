"""The HTTP API (FastAPI): commands, read models and the ledger, per role."""
