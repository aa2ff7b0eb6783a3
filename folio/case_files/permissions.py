"""Who may do what with an expediente. Reads are decided in selectors (querysets); these are the write
rules, checked by services so that UI and API obey the same ones.

- Opening: municipal staff with a working role (officials, heads, signers, CTD, Oficina de Partes, admin);
  only the Oficina de Partes and admins open for a unit other than their own.
- Managing (incorporating, transferring, suspending, closing, linking): the staff of the responsible unit
  and admins. The Oficina de Partes may also incorporate (correspondence, paper items).
- Auditors only read: metadata, the index and the access log.
- Authorized copies: any staff member who can see the expediente; the copy holds only what they may read.
- Archival packages hold every document: the responsible unit, the Oficina de Partes and admins export one
  expediente; the Oficina de Partes and admins export a whole series; only admins import packages.
- Retention schedule and final disposition: every member of the organization's staff reads the schedule;
  only administrators change it and approve, carry out or cancel a disposition (the administrator acts for
  the head of service, who signs the approving act); auditors read the due list and every disposition record.
"""

from __future__ import annotations

from typing import Any

from folio.accounts.models import RoleCode
from folio.case_files.models import CaseFile, CaseFileState
from folio.registry.permissions import REGISTRARS, UNIT_STAFF, is_staff_of, user_unit_ids

__all__ = ["REGISTRARS", "UNIT_STAFF", "can_decide_disposition", "can_edit_retention", "can_export_archive",
           "can_export_series", "can_import_archive", "can_incorporate", "can_manage", "can_open",
           "can_open_for_unit", "can_read_access_log", "can_read_dispositions", "can_read_retention",
           "can_request_copy", "is_privileged_reader", "user_unit_ids"]


def can_open(user: Any) -> bool:
    return bool(user.is_authenticated and user.organization_id and user.has_role(*UNIT_STAFF))


def can_open_for_unit(user: Any, unit_id: int | None) -> bool:
    if not can_open(user):
        return False
    return user.has_role(*REGISTRARS) or (unit_id is not None and unit_id in user_unit_ids(user))


def can_manage(user: Any, case_file: CaseFile) -> bool:
    if not is_staff_of(user, case_file.organization_id):
        return False
    if user.has_role(RoleCode.ADMIN):
        return True
    return user.has_role(*UNIT_STAFF) and case_file.unit_id in user_unit_ids(user)


def can_incorporate(user: Any, case_file: CaseFile) -> bool:
    return can_manage(user, case_file) or (is_staff_of(user, case_file.organization_id)
                                           and user.has_role(RoleCode.REGISTRY))


def is_privileged_reader(user: Any, case_file: CaseFile, held_unit_ids: set[int]) -> bool:
    """May read non-public documents of ``case_file``: the Oficina de Partes, admins, the responsible unit
    and the units that held it (``held_unit_ids``, from the custody history)."""
    if not is_staff_of(user, case_file.organization_id):
        return False
    if user.has_role(*REGISTRARS):
        return True
    units = set(user_unit_ids(user))
    return case_file.unit_id in units or bool(units & held_unit_ids)


def can_read_access_log(user: Any, case_file: CaseFile) -> bool:
    if not is_staff_of(user, case_file.organization_id):
        return False
    return user.has_role(RoleCode.AUDITOR, RoleCode.ADMIN) or can_manage(user, case_file)


def can_request_copy(user: Any, case_file: CaseFile) -> bool:
    # An eliminated expediente keeps its index as the record of what existed, but its bytes are gone.
    return is_staff_of(user, case_file.organization_id) and case_file.state != CaseFileState.ELIMINATED


def can_export_archive(user: Any, case_file: CaseFile) -> bool:
    return can_manage(user, case_file) or (is_staff_of(user, case_file.organization_id)
                                           and user.has_role(*REGISTRARS))


def can_export_series(user: Any) -> bool:
    return bool(user.is_authenticated and user.organization_id and user.has_role(*REGISTRARS))


def can_import_archive(user: Any, organization_id: int) -> bool:
    return is_staff_of(user, organization_id) and user.has_role(RoleCode.ADMIN)


def can_read_retention(user: Any) -> bool:
    return bool(user.is_authenticated and user.organization_id)


def can_edit_retention(user: Any) -> bool:
    return bool(user.is_authenticated and user.organization_id and user.has_role(RoleCode.ADMIN))


def can_decide_disposition(user: Any) -> bool:
    """Approve, carry out or cancel a final disposition."""
    return can_edit_retention(user)


def can_read_dispositions(user: Any) -> bool:
    return bool(user.is_authenticated and user.organization_id and user.has_role(RoleCode.ADMIN, RoleCode.AUDITOR))
