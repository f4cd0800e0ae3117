"""The four staff roles' groups and their permissions (docs/staff-security.md §1).

Permissions are normally created after migrations (post_migrate): they are created here first for
every model the migration state knows, then backoffice.roles.roles_sync gives each group its own.
Models of later migrations get theirs from the same sync after every migrate.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations


def create_roles(apps, schema_editor):  # type: ignore[no-untyped-def]
    from backoffice.roles import roles_sync

    using = schema_editor.connection.alias
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0, using=using)
        app_config.models_module = None
    roles_sync(apps=apps, using=using)


class Migration(migrations.Migration):
    dependencies = [
        ("backoffice", "0002_audit_log"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
