"""Django's ``flush`` (``manage.py flush`` and every transactional test) made to work with two things of
ours that stand in its way:

* the audit trail and the electronic index of expedientes are append-only by trigger, and SQLite
  empties tables with ``DELETE``, which the triggers refuse: they are lifted for the flush and put
  back afterwards;
* on PostgreSQL the search table (``registry_search``, not a Django model) references
  ``registry_registration``, so ``TRUNCATE`` needs ``CASCADE``.
"""

from __future__ import annotations

import importlib
from typing import Any

from django.core.management.commands.flush import Command as DjangoFlushCommand
from django.db import connections

# (table, migration module holding its SQLITE / SQLITE_REVERSE trigger statements)
APPEND_ONLY = [
    ("audit_auditevent", "folio.audit.migrations.0002_append_only"),
    ("case_files_indexentry", "folio.case_files.migrations.0002_index_append_only"),
]


class Command(DjangoFlushCommand):
    def handle(self, **options: Any) -> None:
        connection = connections[options["database"]]
        if connection.vendor == "postgresql":
            options["allow_cascade"] = True
            super().handle(**options)
            return
        if connection.vendor != "sqlite":
            super().handle(**options)
            return
        if "audit_auditevent" not in connection.introspection.table_names():
            super().handle(**options)
            return
        tables = set(connection.introspection.table_names())
        modules = [importlib.import_module(name) for table, name in APPEND_ONLY if table in tables]
        with connection.cursor() as cursor:
            for append_only in modules:
                for sql in append_only.SQLITE_REVERSE:
                    cursor.execute(sql)
        try:
            super().handle(**options)
        finally:
            with connection.cursor() as cursor:
                for append_only in modules:
                    for sql in append_only.SQLITE:
                        cursor.execute(sql)
