"""Boundary changes for the live streams: the planner's commit sends NOTIFY gridgis_territory
{community, version} after it commits (territory/planning/services.py); the hub relays it as an SSE message
`event: territory` to every stream whose viewer's territory overlaps that community.

A hint, not a record: it carries no `id:` and is never replayed through Last-Event-ID (the case events'
cursor is untouched). The page reloads its grids from the REST API, as it does on any (re)connect, so a hint
missed while a client was away costs nothing. A hint missed while the listener itself was reconnecting is
made up from the versions table (`since`)."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from geodata.codes import CODE_LENGTHS

log = logging.getLogger(__name__)

CHANNEL = "gridgis_territory"

LATEST = "SELECT COALESCE(max(id), 0) FROM territory_communityversion"
SINCE = """SELECT v.id, c.code, v.version FROM territory_communityversion v
           JOIN territory_community c ON c.id = v.community_id WHERE v.id > %s ORDER BY v.id"""


@dataclass(frozen=True, slots=True)
class TerritoryHint:
    community: str
    version: int

    @classmethod
    def parse(cls, payload: str) -> TerritoryHint | None:
        """The notification's {community, version}; None (logged) for anything else."""
        try:
            body = json.loads(payload)
            community, version = body["community"], body["version"]
        except (ValueError, TypeError, KeyError):
            community = version = None
        if (isinstance(community, str) and community.isascii() and community.isdigit()
                and len(community) == CODE_LENGTHS["community"]
                and isinstance(version, int) and not isinstance(version, bool)):
            return cls(community, version)
        log.warning("ignored a malformed %s notification: %.200r", CHANNEL, payload)
        return None

    @property
    def message(self) -> str:
        data = json.dumps({"community": self.community, "version": self.version}, separators=(",", ":"))
        return f"event: territory\ndata: {data}\n\n"


async def latest(conn) -> int:
    cursor = await conn.execute(LATEST)
    return (await cursor.fetchone())[0]


async def since(conn, mark: int) -> tuple[list[TerritoryHint], int]:
    """The versions committed after `mark` (a CommunityVersion id), and the new mark."""
    cursor = await conn.execute(SINCE, [mark])
    rows = await cursor.fetchall()
    return [TerritoryHint(code, version) for _, code, version in rows], max((r[0] for r in rows), default=mark)
