from django.db import migrations

# AFTER INSERT, per row: the notification is queued with the transaction and delivered only at commit, so
# only committed events ring, whoever writes them (services, admin, SQL). The payload is just the id.
NOTIFY = """
CREATE OR REPLACE FUNCTION live_notify_case_event() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('case_events', NEW.id::text);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER live_notify_case_event
    AFTER INSERT ON cases_caseevent
    FOR EACH ROW EXECUTE FUNCTION live_notify_case_event();
"""

SILENCE = """
DROP TRIGGER IF EXISTS live_notify_case_event ON cases_caseevent;
DROP FUNCTION IF EXISTS live_notify_case_event();
"""


class Migration(migrations.Migration):
    """Every new timeline entry rings the live listeners (channel case_events)."""

    dependencies = [("cases", "0005_timeline_append_only")]

    operations = [migrations.RunSQL(NOTIFY, SILENCE)]
