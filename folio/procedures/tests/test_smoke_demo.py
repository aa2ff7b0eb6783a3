"""The demo inventory loads through the services, is idempotent and feeds every page."""

from __future__ import annotations

from typing import Any

from folio.audit.models import AuditEvent
from folio.procedures import demo, selectors
from folio.procedures.models import MonthlyTransactions, Procedure, SimplificationPlan


def test_demo_loads_idempotently_and_feeds_the_pages(world: Any, client: Any) -> None:
    procedures = demo.load(world.lota)
    assert len(procedures) >= 25
    assert Procedure.objects.filter(organization=world.lota, is_published=True).count() >= 20
    for slug in ("acceso-informacion-publica", "certificado-informaciones-previas", "patente-comercial",
                 "permiso-bnup", "audiencia-lobby"):
        assert Procedure.objects.filter(organization=world.lota, slug=slug, is_published=True).exists()
    counts = (Procedure.objects.count(), MonthlyTransactions.objects.count(), SimplificationPlan.objects.count(),
              AuditEvent.objects.count())
    demo.load(world.lota)
    assert counts == (Procedure.objects.count(), MonthlyTransactions.objects.count(),
                      SimplificationPlan.objects.count(), AuditEvent.objects.count())
    figures = selectors.plan_figures(world.lota)
    assert figures.simplified == 3 and figures.expected == 45
    assert 0 < figures.claveunica_pct < 100 and 0 < figures.level4_pct < 100

    client.force_login(world.ctd)
    for url in ("/cpat/", "/cpat/indicadores/", "/cpat/priorizacion/", "/cpat/exportar/", "/cpat/importar/",
                f"/cpat/{procedures[0].pk}/", f"/cpat/{procedures[0].pk}/editar/",
                f"/cpat/{procedures[0].pk}/transacciones/", f"/cpat/{procedures[0].pk}/simplificacion/",
                "/cpat/nuevo/", "/cpat/exportar/?format=xlsx", "/cpat/exportar/?format=csv"):
        response = client.get(url)
        assert response.status_code == 200, url
    client.logout()
    for url in ("/tramites/", "/tramites/lota/", "/tramites/lota/?q=patente", "/tramites/lota/patente-comercial/"):
        response = client.get(url)
        assert response.status_code == 200, url
