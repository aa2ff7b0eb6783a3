"""Gap-free numbering from locked counter rows (folios, IUIe, application numbers)."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, models, transaction
from django.db.models import F


def take_next(counter: type[models.Model], **key: Any) -> int:
    """Take the next value of the counter row identified by ``key`` (created at 1 on first use).

    Must run inside the transaction that uses the number: the UPDATE holds the row lock until commit, so
    concurrent takers queue and then see our value; if that transaction rolls back, so does the increment,
    and no number is lost.
    """
    rows = counter._default_manager.filter(**key)
    if not rows.update(last_value=F("last_value") + 1):
        try:
            with transaction.atomic():
                counter._default_manager.create(**key, last_value=1)
            return 1
        except IntegrityError:  # another transaction created it first: take the next one after theirs
            rows.update(last_value=F("last_value") + 1)
    return int(rows.values_list("last_value", flat=True).get())
