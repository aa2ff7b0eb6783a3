"""Who may do what with an online application. Reads are decided in selectors (querysets); these are the write
rules, checked by services so that pages, API and commands obey the same ones.

- Citizens (a user without organization, identified by RUN through ClaveÚnica) file their own applications,
  keep drafts, answer correction requests and withdraw them.
- Stage actions (approve, reject, ask for a correction or a report, resolve): officials and heads of the unit
  responsible for the current stage, and the organization's administrators.
- Reports: officials and heads of the unit asked (and administrators) answer them.
- Counter filing on a citizen's behalf: the Oficina de Partes, administrators, and officials and heads of the
  unit responsible for the procedure's first stage.
- Reading (the inbox and the detail page): the Oficina de Partes, administrators, auditors and the digital
  transformation coordinator see every application of the organization (auditors and the coordinator only
  read); officials and heads see those of their unit and those their unit was asked a report on.
"""

from __future__ import annotations

from typing import Any

from folio.accounts.models import RoleCode
from folio.registry.permissions import is_staff_of, user_unit_ids

ACTING_ROLES = (RoleCode.OFFICIAL, RoleCode.HEAD)
ORG_WIDE_READERS = (RoleCode.ADMIN, RoleCode.REGISTRY, RoleCode.AUDITOR, RoleCode.DIGITAL_COORDINATOR)
INBOX_ROLES = (*ORG_WIDE_READERS, *ACTING_ROLES)
COUNTER_ROLES = (RoleCode.ADMIN, RoleCode.REGISTRY)

__all__ = ["ACTING_ROLES", "COUNTER_ROLES", "INBOX_ROLES", "ORG_WIDE_READERS", "can_act", "can_answer_report",
           "can_file_at_counter", "can_use_inbox", "is_citizen", "is_staff_of", "user_unit_ids"]


def is_citizen(user: Any) -> bool:
    """A person signed in as a citizen: no organization, not a platform account, and a RUN to be keyed by."""
    return bool(user is not None and user.is_authenticated and not user.organization_id and user.run_number
                and not user.is_staff and not user.is_superuser)


def can_use_inbox(user: Any) -> bool:
    return bool(user.is_authenticated and user.organization_id and user.has_role(*INBOX_ROLES))


def can_act(user: Any, application: Any) -> bool:
    """May take the actions of the application's current stage."""
    if not is_staff_of(user, application.organization_id):
        return False
    if user.has_role(RoleCode.ADMIN):
        return True
    return user.has_role(*ACTING_ROLES) and application.unit_id in user_unit_ids(user)


def can_answer_report(user: Any, report: Any) -> bool:
    if not is_staff_of(user, report.organization_id):
        return False
    if user.has_role(RoleCode.ADMIN):
        return True
    return user.has_role(*ACTING_ROLES) and report.unit_id in user_unit_ids(user)


def can_file_at_counter(user: Any, organization_id: int | None, first_unit_id: int | None = None) -> bool:
    """May file an application on a citizen's behalf (presencial or telefónico)."""
    if not is_staff_of(user, organization_id):
        return False
    if user.has_role(*COUNTER_ROLES):
        return True
    return first_unit_id is not None and user.has_role(*ACTING_ROLES) and first_unit_id in user_unit_ids(user)
