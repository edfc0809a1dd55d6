"""The planner's grid editor, pure geometry (shapely, no Django): reshape, split, merge, create and replace
(auto-partition) the grids of a community, keeping it exactly tiled; buildings never split; buildings and
open cases placed again. See engine for the rules; gridgis.territory.planning stores and serves the results.
"""

from .engine import Building, Community, OpenCase, Outcome, Rules, create, merge, replace, reshape, restore, split
from .errors import EditError
from .geometry import Ruler

__all__ = [
           "Building",
           "Community",
           "EditError",
           "OpenCase",
           "Outcome",
           "Ruler",
           "Rules",
           "create",
           "merge",
           "replace",
           "reshape",
    "restore",
           "split",
]
