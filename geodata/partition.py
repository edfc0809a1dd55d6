"""Auto-partition of a community into grids balanced by households: see geodata/autopartition/."""

from geodata.autopartition.core import households_per_grid_to_n, partition, spread

__all__ = ["households_per_grid_to_n", "partition", "spread"]
