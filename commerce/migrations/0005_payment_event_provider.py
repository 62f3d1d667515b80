# Each payment-provider event is stored once per provider (the webhook inbox is shared by every provider).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("commerce", "0004_refund_lines"),
    ]

    operations = [
        migrations.AddField(
            model_name="stripeevent",
            name="provider",
            field=models.CharField(default="stripe", max_length=20),
        ),
        migrations.AlterField(
            model_name="stripeevent",
            name="event_id",
            field=models.CharField(max_length=255),
        ),
        migrations.AddConstraint(
            model_name="stripeevent",
            constraint=models.UniqueConstraint(fields=("provider", "event_id"), name="providerevent_once"),
        ),
    ]
