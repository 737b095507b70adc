from django.db import migrations


def mark_projects(apps, schema_editor):
    Project = apps.get_model("labeling", "Project")
    BenchmarkReference = apps.get_model("quality", "BenchmarkReference")
    with_references = BenchmarkReference.objects.values("project_id")
    Project.objects.filter(pk__in=with_references).update(has_benchmark_references=True)


class Migration(migrations.Migration):
    dependencies = [
        ("quality", "0001_initial"),
        ("labeling", "0005_project_capability_flags"),
    ]

    operations = [migrations.RunPython(mark_projects, migrations.RunPython.noop)]
