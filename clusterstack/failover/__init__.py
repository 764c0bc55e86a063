"""WSFC semantics, pure and deterministic. Imports nothing else of clusterstack."""
