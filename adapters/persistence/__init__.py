"""Event stores with the ledger: eventsourcing recorders that write ledger entries."""
