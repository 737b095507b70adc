"""Every existing organization gets the default alert rules (new ones get them from `organization_create`)."""

from django.db import migrations

from apps.core.domain.alerts import DEFAULT_RULES


def create_defaults(apps, schema_editor):  # type: ignore[no-untyped-def]
    Organization = apps.get_model("accounts", "Organization")
    AlertRule = apps.get_model("core", "AlertRule")
    for organization in Organization.objects.all().iterator():
        existing = set(AlertRule.objects.filter(organization=organization).values_list("kind", flat=True))
        AlertRule.objects.bulk_create(
            AlertRule(organization=organization, kind=d.kind, threshold=d.threshold, window_minutes=d.window_minutes)
            for d in DEFAULT_RULES
            if d.kind not in existing
        )


class Migration(migrations.Migration):
    dependencies = [("core", "0003_alerts")]

    operations = [migrations.RunPython(create_defaults, migrations.RunPython.noop)]
