"""Prepared datasets: the manifest contract, identity splits, the synthetic corpus and torch Datasets."""
