"""Who may read and change the CPAT inventory. Reads are decided here and applied by selectors (querysets);
writes are checked by services, so UI, API and import obey the same rules.

- Edit (inventory, characterization, transactions, simplification plans, import, plan settings, publication
  in the catalogue): the Coordinador/a de Transformación Digital and administrators.
- Read (inventory, export, prioritization, plan figures): those two, auditors (Dirección de Control) and unit
  heads (jefaturas), who answer for their unit's procedures.
- Any other member of staff (officials, Oficina de Partes, signers) gets 403: they see the published
  procedures in the public catalogue (/tramites/) like everybody else.

Always within the user's own organization: another municipality's records answer 404.
"""

from __future__ import annotations

from typing import Any

from folio.accounts.models import RoleCode

EDITORS = (RoleCode.DIGITAL_COORDINATOR, RoleCode.ADMIN)
READERS = (*EDITORS, RoleCode.AUDITOR, RoleCode.HEAD)


def _staff(user: Any) -> bool:
    return bool(user is not None and user.is_authenticated and getattr(user, "organization_id", None))


def can_read_inventory(user: Any) -> bool:
    return _staff(user) and user.has_role(*READERS)


def can_edit_inventory(user: Any) -> bool:
    return _staff(user) and user.has_role(*EDITORS)


def can_edit_procedure(user: Any, procedure: Any) -> bool:
    return can_edit_inventory(user) and user.organization_id == procedure.organization_id
