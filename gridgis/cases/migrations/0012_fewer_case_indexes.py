"""Four indexes fewer on cases_case, one smaller: less for every intake to keep up and for import_cases to
rebuild after a big load (together ~6 s of a 1M-row import's rebuild).
- the GiST over every case's location: all spatial queries are about open cases, which case_open_location_gist
  (0006) serves;
- community_id and street_id: cases are looked up by territory_code prefix, never by these ids;
- case_territory_prefix_idx: (territory_code, received_at) and (territory_code, deadline) serve prefixes too;
- closed_at: only where set (the indicators' queries are ranges), so open and imported rows cost nothing;
- case_open_code_idx (0006/0011): case_open_code_cover_idx (stats 0002) has the same key and predicate.
"""

import django.contrib.gis.db.models.fields
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0011_restore_open_code_index'),
        ('stats', '0002_wall_counts_index'),  # the covering index that replaces case_open_code_idx
        ('intake', '0001_intake'),
        ('territory', '0002_planning_versions'),
        ('workforce', '0002_patrol'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunSQL(
            "DROP INDEX IF EXISTS case_open_code_idx",
            "CREATE INDEX IF NOT EXISTS case_open_code_idx ON cases_case (territory_code varchar_pattern_ops) "
            "WHERE status IN ('received', 'registered', 'dispatched', 'accepted', 'in_progress', 'handled', "
            "'verified')",
        ),
        migrations.RemoveIndex(
            model_name='case',
            name='case_territory_prefix_idx',
        ),
        migrations.AlterField(
            model_name='case',
            name='closed_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='结案时间'),
        ),
        migrations.AlterField(
            model_name='case',
            name='community',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='cases', to='territory.community', verbose_name='社区'),
        ),
        migrations.AlterField(
            model_name='case',
            name='location',
            field=django.contrib.gis.db.models.fields.PointField(blank=True, null=True, spatial_index=False, srid=4326, verbose_name='位置'),
        ),
        migrations.AlterField(
            model_name='case',
            name='street',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='cases', to='territory.street', verbose_name='街道'),
        ),
        migrations.AddIndex(
            model_name='case',
            index=models.Index(condition=models.Q(('closed_at__isnull', False)), fields=['closed_at'], name='case_closed_at_idx'),
        ),
    ]
