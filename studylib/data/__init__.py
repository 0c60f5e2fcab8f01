"""Data layer: locked snapshots (hashing, manifests, reading), DuckDB scans and synthetic data."""
