"""Geocoding hotline addresses against the building gazetteer.

`normalize` and `noise` are pure Python (no Django): text normalisation, parsing into GB/T 37149
levels, the recall key, and noisy variants for tests and the benchmark.
"""
