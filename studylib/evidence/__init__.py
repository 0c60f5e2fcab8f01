"""Evidence: the run folder's results, the ledger, sign-offs, verification and the run archive."""
