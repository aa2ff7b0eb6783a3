from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from folio.audit.models import AuditChainHead, AuditEvent
from folio.audit.services import GENESIS, compute_hash


def events_for_object(*, object_type: str, object_id: str | int) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(object_type=object_type, object_id=str(object_id)).order_by("seq")


@dataclass
class ChainProblem:
    chain: int
    seq: int | None
    message: str


def verify_chains(batch_size: int = 5000) -> tuple[int, list[ChainProblem]]:
    """Re-compute every chain. Returns (rows checked, problems)."""
    problems: list[ChainProblem] = []
    checked = 0
    heads = {h.chain: h for h in AuditChainHead.objects.all()}
    chains = set(heads) | set(AuditEvent.objects.values_list("chain", flat=True).distinct())
    for chain in sorted(chains):
        expected_seq, prev = 1, GENESIS
        last_seq = 0
        qs = AuditEvent.objects.filter(chain=chain).order_by("seq")
        for event in qs.iterator(chunk_size=batch_size):
            checked += 1
            if event.seq != expected_seq:
                problems.append(ChainProblem(
                    chain, event.seq, f"expected seq {expected_seq}, found {event.seq}: rows removed or reordered"))
            if event.prev_hash != prev:
                problems.append(ChainProblem(
                    chain, event.seq,
                    "prev_hash does not match the previous row: a row was removed, inserted or reordered"))
            if compute_hash(event) != event.hash:
                problems.append(ChainProblem(chain, event.seq, "content does not match its hash: the row was altered"))
            prev = event.hash
            expected_seq = event.seq + 1
            last_seq = event.seq
        head = heads.get(chain)
        if head is None:
            problems.append(ChainProblem(chain, None, "chain has rows but no head"))
        elif head.seq != last_seq or (last_seq and head.hash != prev):
            problems.append(ChainProblem(
                chain, head.seq, f"head says seq {head.seq} but the last row is {last_seq}: rows removed from the end"))
    return checked, problems
