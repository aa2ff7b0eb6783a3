"""Background work of the expediente electrónico: thin and idempotent; they exit quietly if the row is gone."""

from __future__ import annotations

from django_tasks import task


@task()
def build_case_file_copy(copy_id: int) -> None:
    """Build the PDF of a whole-expediente copia autorizada (see ``copies.build``)."""
    from folio.case_files.copies import build

    build(copy_id)
