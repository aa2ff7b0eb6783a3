"""The demo applications: real services, different states, idempotent, nothing without published forms."""

from __future__ import annotations

from typing import Any

from folio.applications import demo
from folio.applications.models import Application, ApplicationState
from folio.applications.tests.apphelpers import STAGES, make_definition


def test_demo_applications_are_created_once(world: Any) -> None:
    assert demo.load(world.lota) == []  # no published form yet
    make_definition(world)
    make_definition(world, slug="patente-comercial", stages=[{**STAGES[0], "actions": [
        "approve", "request_correction"]}, STAGES[1]])
    created = demo.load(world.lota)
    states = sorted(a.state for a in created)
    assert states == sorted([ApplicationState.SUBMITTED, ApplicationState.CORRECTION_REQUESTED,
                             ApplicationState.APPROVED])
    runs = {a.applicant.run_number for a in created}
    assert runs == {55555555, 88888888}
    assert all(a.case_file_id and a.certificate_id for a in created)
    assert demo.load(world.lota) == []
    assert Application.objects.count() == 3
    assert not Application.objects.filter(applicant__run_number=44444444).exists()


def test_demo_with_the_published_demo_forms(world: Any) -> None:
    from folio.applications import demo_definitions
    from folio.procedures import demo as procedures_demo

    procedures_demo.load(world.lota)
    if not demo_definitions.load(world.lota):
        return
    created = demo.load(world.lota)
    assert len(created) == 3
    assert {a.state for a in created} >= {ApplicationState.SUBMITTED, ApplicationState.CORRECTION_REQUESTED}
