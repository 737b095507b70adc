from django.db import migrations


def mark_projects(apps, schema_editor):
    Project = apps.get_model("labeling", "Project")
    Prelabel = apps.get_model("predictions", "Prelabel")
    Project.objects.filter(pk__in=Prelabel.objects.values("project_id")).update(has_prelabels=True)


class Migration(migrations.Migration):
    dependencies = [
        ("predictions", "0004_expert_task_proxy"),
        ("labeling", "0005_project_capability_flags"),
    ]

    operations = [migrations.RunPython(mark_projects, migrations.RunPython.noop)]
