"""Fewer, smaller indexes on cases_case, so intake and import_cases maintain (or rebuild) less:
- the duplicate check's index: open cases by category and reception time (partial);
- links most cases lack (assignee_staff, created_by, department, duplicate_of, geocode_building, handler) and
  needs_location: partial, NULL/false rows left out — imported history has none of them;
- gone: territory_code's plain and _like indexes (case_territory_prefix_idx and the (code, timestamp) indexes
  serve prefixes and equality alike) and number's _like index (numbers are only looked up whole; the unique
  constraint's index serves that);
- the indicators' timestamp indexes (0006) on timestamps most rows lack hold only the rows that have one (their
  queries are ranges, which imply NOT NULL).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

PARTIAL_TIMESTAMPS = [
    ("case_registered_at_idx", "(registered_at)", "registered_at"),
    ("case_rated_at_idx", "(rated_at)", "rated_at"),
    ("case_code_registered_idx", "(territory_code varchar_pattern_ops, registered_at)", "registered_at"),
    ("case_code_rated_idx", "(territory_code varchar_pattern_ops, rated_at)", "rated_at"),
    ("case_code_closed_idx", "(territory_code varchar_pattern_ops, closed_at)", "closed_at"),
]


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0007_calendar_day'),
        ('territory', '0001_territory'),
        ('workforce', '0001_workforce'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunSQL("DROP INDEX IF EXISTS cases_case_number_980c9551_like",
                          "CREATE INDEX IF NOT EXISTS cases_case_number_980c9551_like ON cases_case "
                          "(number varchar_pattern_ops)"),
        *[migrations.RunSQL(
            [f"DROP INDEX IF EXISTS {name}", f"CREATE INDEX {name} ON cases_case {columns} WHERE {column} IS NOT NULL"],
            [f"DROP INDEX IF EXISTS {name}", f"CREATE INDEX {name} ON cases_case {columns}"],
        ) for name, columns, column in PARTIAL_TIMESTAMPS],
        migrations.AlterField(
            model_name='case',
            name='assignee_staff',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='社区责任人'),
        ),
        migrations.AlterField(
            model_name='case',
            name='created_by',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='录入人'),
        ),
        migrations.AlterField(
            model_name='case',
            name='department',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='cases', to='workforce.department', verbose_name='承办部门'),
        ),
        migrations.AlterField(
            model_name='case',
            name='duplicate_of',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='possible_duplicates', to='cases.case', verbose_name='疑似重复'),
        ),
        migrations.AlterField(
            model_name='case',
            name='geocode_building',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='territory.building', verbose_name='匹配楼栋'),
        ),
        migrations.AlterField(
            model_name='case',
            name='handler',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='签收人'),
        ),
        migrations.AlterField(
            model_name='case',
            name='needs_location',
            field=models.BooleanField(default=False, verbose_name='待定位'),
        ),
        # Named drops, not AlterField's: that drops every index on territory_code alone outside the model's
        # Meta, case_open_code_idx (0006) included.
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunSQL(
                ["DROP INDEX IF EXISTS cases_case_territory_code_6d64fc5d",
                 "DROP INDEX IF EXISTS cases_case_territory_code_6d64fc5d_like"],
                ["CREATE INDEX IF NOT EXISTS cases_case_territory_code_6d64fc5d ON cases_case (territory_code)",
                 "CREATE INDEX IF NOT EXISTS cases_case_territory_code_6d64fc5d_like ON cases_case "
                 "(territory_code varchar_pattern_ops)"],
            )],
            state_operations=[migrations.AlterField(
                model_name='case',
                name='territory_code',
                field=models.CharField(blank=True, max_length=15, verbose_name='辖区代码'),
            )],
        ),
        migrations.AddIndex(
            model_name='case',
            index=models.Index(condition=models.Q(('status__in', ('received', 'registered', 'dispatched', 'accepted', 'in_progress', 'handled', 'verified'))), fields=['category', 'received_at'], name='case_open_cat_received_idx'),
        ),
        migrations.AddIndex(
            model_name='case',
            index=models.Index(condition=models.Q(('assignee_staff__isnull', False)), fields=['assignee_staff'], name='case_assignee_staff_idx'),
        ),
        migrations.AddIndex(
            model_name='case',
            index=models.Index(condition=models.Q(('created_by__isnull', False)), fields=['created_by'], name='case_created_by_idx'),
        ),
        migrations.AddIndex(
            model_name='case',
            index=models.Index(condition=models.Q(('department__isnull', False)), fields=['department'], name='case_department_idx'),
        ),
        migrations.AddIndex(
            model_name='case',
            index=models.Index(condition=models.Q(('duplicate_of__isnull', False)), fields=['duplicate_of'], name='case_duplicate_of_idx'),
        ),
        migrations.AddIndex(
            model_name='case',
            index=models.Index(condition=models.Q(('geocode_building__isnull', False)), fields=['geocode_building'], name='case_geocode_building_idx'),
        ),
        migrations.AddIndex(
            model_name='case',
            index=models.Index(condition=models.Q(('handler__isnull', False)), fields=['handler'], name='case_handler_idx'),
        ),
        migrations.AddIndex(
            model_name='case',
            index=models.Index(condition=models.Q(('needs_location', True)), fields=['needs_location'], name='case_needs_location_idx'),
        ),
    ]
