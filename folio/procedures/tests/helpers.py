"""Rows of the applications app made directly with the ORM (its services belong to another module)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from folio.applications.models import Application, FormDefinition


def publish_form(procedure: Any, *, published_at: dt.datetime | None = None) -> FormDefinition:
    return FormDefinition.objects.create(organization=procedure.organization, procedure=procedure, version=1,
                                         state="published", schema={}, published_at=published_at)


def closed_application(procedure: Any, definition: FormDefinition, applicant: Any, *, closed_at: dt.datetime,
                       channel: str = "digital", state: str = "approved") -> Application:
    return Application.objects.create(organization=procedure.organization, procedure=procedure,
                                      definition=definition, applicant=applicant, channel=channel, state=state,
                                      closed_at=closed_at, case_file=None)
