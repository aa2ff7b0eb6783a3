"""The query shapes chosen for speed at a million rows (bench/, docs/performance.md) return exactly what
the plain queries would: the inbox picks its page of ids first, and the routing condition of the
visibility filter only looks at non-public registrations."""

from __future__ import annotations

from typing import Any

from folio.registry import selectors, services
from folio.registry.models import OPEN_ROUTING, AccessLevel, Registration, Routing
from folio.registry.tests.servicehelpers import incoming


def test_inbox_pages_follow_deadline_then_id_order(world: Any) -> None:
    dom = world.units["DOM"]
    for days in (15, 5, 10, 5, 20, 10):
        reg = incoming(world.clerk)
        services.registration_route(actor=world.clerk, registration=reg, to_unit_ids=[dom.pk],
                                    instruction="response", business_days=days)
    # One to another unit and one to DOM without a deadline, which the inbox must still place.
    other = incoming(world.clerk)
    services.registration_route(actor=world.clerk, registration=other, to_unit_ids=[world.units["AJ"].pk],
                                instruction="response", business_days=5)
    no_deadline = incoming(world.clerk)
    services.registration_route(actor=world.clerk, registration=no_deadline, to_unit_ids=[dom.pk],
                                instruction="information", business_days=None)

    expected = list(Routing.objects.filter(organization=world.lota, to_unit=dom, to_user__isnull=True,
                                           status__in=OPEN_ROUTING)
                    .order_by("due_date", "id").values_list("pk", flat=True))
    assert len(expected) == 7
    whole = selectors.inbox_routings(world.dom, limit=50)
    assert [r.pk for r in whole.routings] == expected
    assert whole.pending == 7
    pages = [selectors.inbox_routings(world.dom, limit=3, offset=o).routings for o in (0, 3, 6)]
    assert [r.pk for page in pages for r in page] == expected
    assert all(r.registration.folio and r.to_unit.pk == dom.pk for page in pages for r in page)
    assert selectors.inbox_routings(world.legal, limit=50).pending == 1


def test_visibility_through_routing_is_unchanged_for_every_access_level(world: Any) -> None:
    regs = {level: incoming(world.clerk, access_level=level, unit_id=world.units["AJ"].pk)
            for level in AccessLevel.values}
    for reg in regs.values():
        services.registration_route(actor=world.clerk, registration=reg, to_unit_ids=[world.units["DOM"].pk],
                                    instruction="information", business_days=3)
    unrouted = incoming(world.clerk, access_level=AccessLevel.RESTRICTED, unit_id=world.units["AJ"].pk)
    visible = set(selectors.registrations_visible_to(world.dom).values_list("pk", flat=True))
    assert {r.pk for r in regs.values()} <= visible  # public by level, the others by the routing
    assert unrouted.pk not in visible
    assert visible == set(Registration.objects.filter(organization=world.lota).exclude(pk=unrouted.pk)
                          .values_list("pk", flat=True))
