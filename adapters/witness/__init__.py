"""``bewijslast witness``: a C2SP tlog-witness that cosigns the ledgers it watches."""
