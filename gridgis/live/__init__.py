"""Live case events: Server-Sent Events fed by PostgreSQL LISTEN/NOTIFY.

The CaseEvent table is the source of truth; NOTIFY (a trigger on every insert, migration 0001) only rings
the doorbell. One listening connection per server process (hub.py) reads new rows and fans them out to
every open stream (views.py), each filtered by its viewer's scope (scope.py). Streams resume from the table.

For pages: `new EventSource("/api/v1/live/cases/")` (session cookie). Messages:
  event "case"   data: {event_id, action, from_status, to_status, at, case_id, number, status, territory_code,
                        lon, lat, category, category_name, grid, assignee, deadline, overdue, supervised,
                        description (first 200 characters)}. Text is data: escape it when rendering.
                 The same event may come twice after a reconnect: key on event_id.
  event "reset"  the client was too far behind for a replay: reload the state from the REST API.
  event "territory"  data: {community, version}: a planner committed a new boundary version of a community
                 overlapping the viewer's territory: reload the grids. No `id:`, never replayed: a page
                 reloads its grids on every (re)connect anyway (territory.py).
EventSource resends the last `id:` as Last-Event-ID on reconnects, which replays the case events missed.
"""
