"""IUIe numbers stay unique and gap-free per organization when expedientes are opened at the same time."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connections

from folio.case_files import services
from folio.case_files.models import CaseFile


def _open_many(user_id: int, count: int, errors: list[BaseException]) -> None:
    from folio.accounts.models import User

    try:
        user = User.objects.select_related("organization", "unit").get(pk=user_id)
        for i in range(count):
            services.case_file_open(actor=user, data=services.CaseFileInput(title=f"Concurrente {i}", subject="x"))
    except BaseException as exc:  # reported to the main thread
        errors.append(exc)
    finally:
        connections.close_all()


@pytest.mark.django_db(transaction=True)
def test_iuie_unique_per_organization_under_concurrency(world: Any) -> None:
    errors: list[BaseException] = []
    users = [world.dom, world.dom_head, world.dideco, world.other_dom]
    threads = [threading.Thread(target=_open_many, args=(u.pk, 5, errors)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    lota = list(CaseFile.objects.filter(organization=world.lota).order_by("number").values_list("number", "iuie"))
    coronel = list(CaseFile.objects.filter(organization=world.coronel).order_by("number").values_list("number",
                                                                                                      flat=True))
    assert [n for n, _ in lota] == list(range(1, 16))
    assert len({iuie for _, iuie in lota}) == 15
    assert coronel == list(range(1, 6))
