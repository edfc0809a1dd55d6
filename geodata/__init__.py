"""Geo I/O and geometry logic that does not need Django: interchange files, CRS, repair, coverage,
the demo-city generator."""
