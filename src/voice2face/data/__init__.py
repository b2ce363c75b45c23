"""Prepared datasets: the manifest contract, identity splits, the synthetic corpus, readers, and the
in-memory containers the trainers take (containers.py)."""
