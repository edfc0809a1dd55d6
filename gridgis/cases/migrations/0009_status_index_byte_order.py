"""case_status_category_idx by byte order: the database's collation (C.UTF-8) compares text through the C
library, which made this index one of the slowest to rebuild after a bulk load; = and IN work the same."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("cases", "0008_case_indexes_for_bulk_and_duplicates"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="case", name="case_status_category_idx"),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(fields=["status", "category"], name="case_status_category_idx",
                               opclasses=["varchar_pattern_ops", "int8_ops"]),
        ),
    ]
