"""Media missions: the media price table (per image, per second), the four media kinds, the Media Studio agent.

Prices as published by each provider on the date in ``effective_from``; operators add newer rows in the admin.
gpt-image-1 is priced at its dearest per-image rate (high quality, 1536x1024), so a reservation always covers
what the model picks with ``quality=auto``; sora-2 and sora-2-pro per second of video; speech per second of
audio (OpenAI bills TTS by characters or tokens: the per-second rate here is its list price per minute / 60);
Livepeer Studio per second of each rendition. The offline and local backends cost nothing.
"""

from datetime import date
from decimal import Decimal

from django.db import migrations, models

READ_ON = date(2025, 10, 7)
PRICES = [
    # model, provider, unit, USD per unit, source
    ("gpt-image-1", "openai", "image", "0.25", "openai.com/api/pricing: high quality 1536x1024, read 2025-10-07"),
    ("gpt-image-1-mini", "openai", "image", "0.052", "openai.com/api/pricing: high quality 1536x1024, read 2025-10-07"),
    ("sora-2", "openai", "second", "0.10", "openai.com/api/pricing: sora-2 720p, read 2025-10-07"),
    ("sora-2-pro", "openai", "second", "0.50", "openai.com/api/pricing: sora-2-pro 1024p, read 2025-10-07"),
    ("gpt-4o-mini-tts", "openai", "second", "0.00025", "openai.com/api/pricing: about $0.015 a minute, 2025-10-07"),
    ("tts-1", "openai", "second", "0.00025", "openai.com/api/pricing: $15 / 1M characters, about 15 chars/s"),
    ("livepeer", "livepeer", "second", "0.0001", "livepeer.studio/pricing: transcoding per minute, read 2025-10-07"),
    ("offline-image", "offline", "image", "0", "DreamNet offline renderer: no provider is called"),
    ("offline-video", "offline", "second", "0", "DreamNet offline renderer and PyAV: no provider is called"),
    ("offline-speech", "offline", "second", "0", "espeak-ng on this node: no provider is called"),
    ("local-transcode", "local", "second", "0", "PyAV on this node: no provider is called"),
]


def seed(apps, schema_editor):
    MediaPrice = apps.get_model("agents", "MediaPrice")
    Agent = apps.get_model("agents", "Agent")
    for model, provider, unit, usd, source in PRICES:
        MediaPrice.objects.get_or_create(
            model=model,
            effective_from=date(2025, 1, 1) if provider in ("offline", "local") else READ_ON,
            defaults={"provider": provider, "unit": unit, "usd_per_unit": Decimal(usd), "source": source},
        )
    Agent.objects.get_or_create(
        slug="media-studio",
        defaults={
            "name": "Media Studio",
            "role": "Makes images, video and speech and transcodes video, under the budget governor.",
            "status": "active",
            "tools": [],
            "system_prompt": "You make the media the operator asks for.",
            "max_turns": 1,
            "max_tokens": 1,
        },
    )


class Migration(migrations.Migration):
    dependencies = [
        ("agents", "0007_foundry"),
    ]

    operations = [
        migrations.AlterField(
            model_name="mission",
            name="kind",
            field=models.CharField(
                choices=[
                    ("task", "Task"),
                    ("brief", "Brief"),
                    ("evaluate", "Evaluate"),
                    ("mutate", "Mutate"),
                    ("ingest", "Ingest"),
                    ("generate", "Generate"),
                    ("codegen", "Codegen"),
                    ("image", "Image"),
                    ("video", "Video"),
                    ("speech", "Speech"),
                    ("transcode", "Transcode"),
                ],
                max_length=10,
            ),
        ),
        migrations.CreateModel(
            name="MediaPrice",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("model", models.CharField(max_length=100)),
                ("provider", models.CharField(default="openai", max_length=20)),
                ("unit", models.CharField(choices=[("image", "Image"), ("second", "Second")], max_length=8)),
                ("usd_per_unit", models.DecimalField(decimal_places=6, max_digits=12)),
                ("effective_from", models.DateField()),
                (
                    "source",
                    models.CharField(blank=True, help_text="Where the price was read, and when.", max_length=200),
                ),
            ],
            options={
                "ordering": ["model", "-effective_from"],
                "constraints": [
                    models.UniqueConstraint(fields=("model", "effective_from"), name="mediaprice_one_per_day"),
                    models.CheckConstraint(
                        condition=models.Q(("usd_per_unit__gte", 0)), name="mediaprice_not_negative"
                    ),
                ],
            },
        ),
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]
