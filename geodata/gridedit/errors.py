"""The one error the editor raises: bad input, named by the field of the edit it came from."""

from __future__ import annotations

from shapely.geometry.base import BaseGeometry


class EditError(ValueError):
    """An edit that cannot be made; nothing was changed. `spot` marks where (e.g. a self-intersection)."""

    def __init__(self, field: str, message: str, *, spot: BaseGeometry | None = None):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
        self.spot = spot
