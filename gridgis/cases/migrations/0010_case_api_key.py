"""Case.api_key: the integration (Open311 client) that filed the case, so it sees its own requests wherever
they landed. Partial index: most cases come from people, not keys."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("cases", "0009_status_index_byte_order"),
        ("intake", "0001_intake"),
    ]

    operations = [
        migrations.AddField(
            model_name="case",
            name="api_key",
            field=models.ForeignKey(blank=True, db_index=False, null=True,
                                    on_delete=django.db.models.deletion.SET_NULL, related_name="+",
                                    to="intake.apikey", verbose_name="接口密钥"),
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(condition=models.Q(("api_key__isnull", False)), fields=["api_key"],
                               name="case_api_key_idx"),
        ),
    ]
