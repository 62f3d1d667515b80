"""ComputeJob and ShowcaseFrame now belong to the ``computejobs`` app: drop them from dreamnet's state only.

The database keeps both tables and their rows; computejobs' 0001 took the models over under the same table names.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("dreamnet", "0005_computejob_lease"),
        ("computejobs", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="ShowcaseFrame"),
                migrations.DeleteModel(name="ComputeJob"),
            ],
            database_operations=[],
        ),
    ]
