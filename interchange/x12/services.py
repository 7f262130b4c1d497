"""Importing an 837P file: read and validated as it streams, each claim through intake, a 999 written.

Every claim goes through `claims.services.claims_submit_batch` (claim_submit's checks and intake
edits, a chunk of claims at a time): a claim with an X12 error in it or above it, or that intake
refuses (malformed, not the uploader's NPI), is refused alone and stores nothing; a claim failing an
intake edit (unknown member, NPI check digit, unknown provider, CLM02 not the sum of its lines, …) is
stored rejected with the field named, as any claim. A file that is not X12 is refused whole.
"""
import collections
import itertools
import multiprocessing
import traceback
from dataclasses import dataclass

from django.db import transaction

from claims.errors import ClaimError
from claims.services import SubmittedClaim, claims_submit_batch
from core import clock
from core.bulk import bulk_insert
from core.errors import DomainError, Forbidden

from ..models import InboundClaim, InboundFile
from .ack_999 import ack_999, group_ack_code
from .read_837 import ClaimRead, Reader837
from .stream import NotX12, X12Error

CHUNK = 1_000
PARALLEL_MIN_BYTES = 1_000_000  # about 2,000 claims: below it a second process costs more than it saves
INBOUND_FIELDS = ("file_id", "position", "set_control", "patient_control_number", "claim_id", "outcome", "field",
                  "message")
OUTCOME = InboundClaim.Outcome
_seq = itertools.count(1)


def _refusal_of(exc) -> tuple[str, str]:
    for name, messages in getattr(exc, "message_dict", {}).items():
        return str(name)[:60], "; ".join(str(m) for m in messages)[:300]
    return "claim", str(exc)[:300]


class _Import:
    def __init__(self, *, name: str, size: int, uploaded_by):
        self.name, self.size, self.uploaded_by = name[:255], size, uploaded_by
        self.file: InboundFile | None = None
        self.found = self.taken = self.refused = 0
        self.taken_in_set: collections.Counter[int] = collections.Counter()  # claims taken in, by set index

    def _file(self, reader: Reader837) -> InboundFile:
        if self.file is None:
            link = getattr(self.uploaded_by, "party_link", None) if self.uploaded_by is not None else None
            self.file = InboundFile.objects.create(
                name=self.name, received_at=clock.now(), size_bytes=self.size, uploaded_by=self.uploaded_by,
                provider_id=getattr(link, "provider_id", None),
                interchange_control=reader.envelope.isa_control[:9], status=InboundFile.Status.REJECTED,
                ack_999="")
        return self.file

    def flush(self, reader: Reader837, chunk: list[ClaimRead]) -> None:
        if not chunk:
            return
        with transaction.atomic():
            inbound = self._file(reader)
            wanted = [c for c in chunk if c.refusal() is None]
            results = iter(claims_submit_batch(claims=[
                SubmittedClaim(member_id=c.member_id, npi=c.npi, service_date=c.service_date,
                               lines=[{"code": ln.code, "billed": ln.billed, "units": ln.units} for ln in c.lines],
                               claim_charge=c.charge or None)
                for c in wanted], submitted_by=self.uploaded_by))
            rows = []  # InboundClaim rows, in INBOUND_FIELDS order
            for c in chunk:
                refusal = c.refusal()
                claim = None
                if refusal is None:
                    result = next(results)
                    if isinstance(result, (ClaimError, Forbidden, DomainError)):
                        refusal = _refusal_of(result)
                    else:
                        claim = result
                self.found += 1
                if claim is None:
                    self.refused += 1
                    rows.append((inbound.pk, c.position, c.set_control[:9], c.patient_control_number, None,
                                 OUTCOME.REFUSED.value, refusal[0][:60], refusal[1][:300]))
                    continue
                self.taken += 1
                self.taken_in_set[c.set_index] += 1
                rejected = claim.state == "rejected"
                rows.append((inbound.pk, c.position, c.set_control[:9], c.patient_control_number, claim.pk,
                             (OUTCOME.REJECTED if rejected else OUTCOME.SUBMITTED).value,
                             claim.rejection_field if rejected else "", claim.rejection_message if rejected else ""))
            bulk_insert(InboundClaim, INBOUND_FIELDS, rows)
        chunk.clear()

    def finish(self, reader: Reader837) -> InboundFile:
        inbound = self._file(reader)
        for i, s in enumerate(reader.sets):
            s.claims_taken = self.taken_in_set[i]
        code = group_ack_code(reader.sets, reader.envelope)
        inbound.ack_999 = ack_999(envelope=reader.envelope, sets=reader.sets, seed=inbound.pk * 10 + next(_seq) % 10)
        inbound.status = (InboundFile.Status.REJECTED if self.taken == 0 else
                          InboundFile.Status.ACCEPTED if self.refused == 0 and code in ("A", "E") else
                          InboundFile.Status.PARTIAL)
        inbound.claims_found, inbound.claims_accepted, inbound.claims_refused = self.found, self.taken, self.refused
        inbound.errors_found = sum(s.error_count for s in reader.sets) + len(reader.envelope.errors)
        inbound.save()
        return inbound


def _chunks_serial(reader: Reader837):
    """("claims" | "end" | "notx12", chunk, error, state): the file's claims CHUNK at a time, read here."""
    chunk: list[ClaimRead] = []
    try:
        for claim in reader.claims():
            chunk.append(claim)
            if len(chunk) >= CHUNK:
                yield "claims", chunk, None, reader
                chunk = []
    except NotX12 as exc:
        yield "notx12", chunk, str(exc), reader
        return
    yield "end", chunk, None, reader


@dataclass(slots=True)
class _ReadState:
    """What a reader in another process has read so far (Reader837's sets, envelope and count)."""
    sets: list
    envelope: object
    segments: int


def _read_in_child(reader: Reader837, conn) -> None:
    """In the forked reader process: send each chunk with the reader's state, then the end (or the
    reason it stopped). Of the sets, only those that may have changed since the last message are sent
    (a closed set is final): a file of many small sets costs no more than one of a few big ones. The
    database is never touched here."""
    final = 0  # sets before this index were closed when last sent
    try:
        for kind, chunk, error, _ in _chunks_serial(reader):
            state = (final, reader.sets[final:], reader.envelope, reader.segments)
            conn.send((kind, chunk, error, state))
            while final < len(reader.sets) and reader.sets[final].closed:
                final += 1
    except BaseException:  # noqa: BLE001 - told to the importing process, which raises it
        conn.send(("crash", [], traceback.format_exc()[-2000:], None))
    finally:
        conn.close()


def _chunks_parallel(reader: Reader837):
    """`_chunks_serial`, with the reading and pyx12's validation in a forked process, while this one
    runs intake and writes the chunk before: validation is CPU-bound Python, so a thread would not
    help. The pipe holds a chunk or two, so neither process runs far ahead (memory stays flat)."""
    ctx = multiprocessing.get_context("fork")
    receiving, sending = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_read_in_child, args=(reader, sending), daemon=True, name="837-reader")
    child.start()
    sending.close()
    state = _ReadState(sets=[], envelope=reader.envelope, segments=0)
    try:
        while True:
            try:
                kind, chunk, error, update = receiving.recv()
            except EOFError:
                raise RuntimeError(f"the 837 reader process ended without an answer (exit {child.exitcode})") from None
            if kind == "crash":
                raise RuntimeError(f"the 837 reader process failed:\n{error}")
            start, sets, state.envelope, state.segments = update
            state.sets[start:] = sets
            yield kind, chunk, error, state
            if kind != "claims":
                return
    finally:
        receiving.close()
        child.join(timeout=10)
        if child.is_alive():
            child.kill()
            child.join()


def _parallel_wanted(size: int) -> bool:
    return size >= PARALLEL_MIN_BYTES and "fork" in multiprocessing.get_all_start_methods()


def inbound_837_import(*, src, name: str, size: int = 0, uploaded_by=None, parallel: bool | None = None) -> InboundFile:
    """Import an 837P from `src` (a path or a text stream). `uploaded_by`: the provider staff login that
    uploaded it (its claims must be its provider's NPI), None for the system (the command).
    `parallel`: read and validate in a second process while this one writes (default: for files of
    PARALLEL_MIN_BYTES or more); the outcome is the same either way.

    Raises DomainError {"file": …} when the input is not X12 (nothing written); otherwise returns the
    InboundFile with its 999 and counts, whatever the claims' outcomes."""
    reader = Reader837(src)
    job = _Import(name=name, size=size, uploaded_by=uploaded_by)
    if parallel is None:
        parallel = _parallel_wanted(size)
    state = reader
    for kind, chunk, error, state in (_chunks_parallel(reader) if parallel else _chunks_serial(reader)):
        if kind == "claims":
            job.flush(state, chunk)
            continue
        if kind == "notx12":
            if job.file is None and not chunk and not state.sets:
                raise DomainError({"file": [f"{name} is not an X12 837 file ({error})"[:300]]})
            state.envelope.errors.append(X12Error("gs", "1", str(error)[:200], seg_id="GS"))
        if job.file is None and (state.segments == 0 or not state.envelope.isa_control):
            raise DomainError({"file": [f"{name} is not an X12 837 file (no ISA interchange header)"]})
        job.flush(state, chunk)
    return job.finish(state)
