"""Live case events: Server-Sent Events fed by PostgreSQL LISTEN/NOTIFY.

The CaseEvent table is the source of truth; NOTIFY only rings the doorbell. One listening connection per
server process (hub.py) reads new rows and fans them out to every open stream (views.py), each filtered by
its viewer's scope (scope.py). Streams resume with Last-Event-ID from the table.
"""
