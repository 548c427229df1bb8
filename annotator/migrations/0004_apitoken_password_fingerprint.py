"""ApiToken.password_fingerprint, filled for existing tokens from their user's current password
so that tokens made before this migration keep working until the password changes."""

import hashlib

from django.db import migrations, models


def fingerprint_existing_tokens(apps, schema_editor):
    ApiToken = apps.get_model("annotator", "ApiToken")
    for token in ApiToken.objects.select_related("user").iterator(chunk_size=500):
        # Same digest as annotator.tokens.password_fingerprint (kept inline: a migration must
        # not change when the module does).
        token.password_fingerprint = hashlib.sha256(
            f"annotator.api-token:{token.user.password}".encode()
        ).hexdigest()
        token.save(update_fields=["password_fingerprint"])


class Migration(migrations.Migration):
    dependencies = [
        ("annotator", "0003_label_choice_key_not_reserved"),
    ]

    operations = [
        migrations.AddField(
            model_name="apitoken",
            name="password_fingerprint",
            field=models.CharField(default="", editable=False, max_length=64),
            preserve_default=False,
        ),
        migrations.RunPython(fingerprint_existing_tokens, migrations.RunPython.noop),
    ]
