"""The ledger over HTTP: checkpoint, entries, proofs, receipts, bundles.

Public, as a transparency log's are (entries hold no personal data, only hashes of states);
states only in bundles, for a grant on the whole deployment (states of every municipality).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import FileResponse, PlainTextResponse
from starlette.background import BackgroundTask

from adapters.entrypoints.api.auth import Caller, may_verify, sees_every_state
from adapters.entrypoints.api.problems import Problem, invalid, not_found
from adapters.entrypoints.api.services import MAX_EXPORTS, Services, services_of
from adapters.services.receipts import checkpoint_for, prove
from ledger.bundle import export_bundle
from ledger.errors import MalformedInput
from ledger.merkle import consistency_proof, inclusion_proof, tree_root
from ledger.note import b64
from ledger.store import LedgerStore

MAX_ENTRIES = 1000
MAX_BUNDLE = 100_000  # entries in one bundle: its file, not the server's memory, holds them
NOTE = "text/plain; charset=utf-8"


def _signed_for(services: Services, index: int) -> str:
    """A signed checkpoint holding ``index``: 409 when there is none and none can be made."""
    try:
        return checkpoint_for(services.ledger, index, services.sign)
    except MalformedInput as e:
        raise Problem(409, "no-checkpoint", "No signed checkpoint yet", str(e)) from None


def _ledger(request: Request) -> LedgerStore:
    return services_of(request).ledger


def add_ledger_routes(router: APIRouter) -> None:
    @router.get("/ledger/checkpoint", tags=["ledger"], response_class=PlainTextResponse)
    def checkpoint(request: Request) -> Response:
        """The newest signed checkpoint (a C2SP signed note)."""
        note = _ledger(request).latest_signed_checkpoint()
        if note is None:
            raise not_found("a signed checkpoint")
        return PlainTextResponse(note, media_type=NOTE)

    @router.get("/ledger/entries", tags=["ledger"])
    def entries(
        request: Request,
        response: Response,
        after: Annotated[int, Query(ge=-1, description="the index before the first wanted")] = -1,
        limit: Annotated[int, Query(ge=1, le=MAX_ENTRIES)] = 100,
    ) -> Any:
        """Entries in ledger order, the feed a consumer follows with ``after``."""
        ledger = _ledger(request)
        end = ledger.ledger_size() - 1  # read once: the ledger may grow during the request
        first, last = after + 1, min(after + limit, end)
        found = list(ledger.records(first, last)) if first <= last else []
        following = None
        if last < end:
            following = str(request.url.include_query_params(after=last, limit=limit))
            response.headers["Link"] = f'<{following}>; rel="next"'
        items = [
            {
                "entry": r.entry.to_object(),
                "leaf_hash": r.leaf_hash.hex(),
                "chain_hash": r.chain_hash.hex(),
            }
            for r in found
        ]
        return {"items": items, "next": following}

    @router.get("/ledger/proofs/inclusion", tags=["ledger"])
    def inclusion(
        request: Request,
        index: Annotated[int, Query(ge=0)],
        tree_size: Annotated[int, Query(ge=1)],
    ) -> Any:
        """RFC 9162 inclusion proof of entry ``index`` in the tree of ``tree_size`` entries."""
        ledger = _ledger(request)
        _within("query.tree_size", tree_size, ledger.ledger_size())
        if index >= tree_size:
            raise invalid("query.index", "must be below tree_size")
        return {
            "index": index,
            "tree_size": tree_size,
            "root": b64(tree_root(tree_size, ledger)),
            "path": [b64(h) for h in inclusion_proof(index, tree_size, ledger)],
        }

    @router.get("/ledger/proofs/consistency", tags=["ledger"])
    def consistency(
        request: Request,
        old_size: Annotated[int, Query(ge=1)],
        new_size: Annotated[int, Query(ge=1)],
    ) -> Any:
        """RFC 9162 consistency proof from the tree of ``old_size`` to that of ``new_size``."""
        ledger = _ledger(request)
        _within("query.new_size", new_size, ledger.ledger_size())
        if old_size > new_size:
            raise invalid("query.old_size", "must not exceed new_size")
        return {
            "old_size": old_size,
            "new_size": new_size,
            "old_root": b64(tree_root(old_size, ledger)),
            "new_root": b64(tree_root(new_size, ledger)),
            "path": [b64(h) for h in consistency_proof(old_size, new_size, ledger)],
        }

    @router.get("/ledger/receipts/{index}", tags=["ledger"], response_class=PlainTextResponse)
    def receipt(request: Request, index: int) -> Response:
        """A tlog-proof receipt: the entry, its inclusion proof and a signed checkpoint."""
        services = services_of(request)
        if not 0 <= index < services.ledger.ledger_size():
            raise not_found(f"entry {index}")
        note = _signed_for(services, index)
        return PlainTextResponse(
            prove(services.ledger, [index], note)[index].receipt.format(), media_type=NOTE
        )

    @router.get("/ledger/bundle", tags=["ledger"], response_class=FileResponse)
    def bundle(
        request: Request,
        caller: Caller,
        first: Annotated[int, Query(alias="from", ge=0, description="the first index")] = 0,
        last: Annotated[
            int | None, Query(alias="to", ge=0, description="the last index (inclusive)")
        ] = None,
    ) -> Response:
        """An export bundle (zip) for offline verification of entries ``from``..``to`` (as in
        ``bewijslast export``), at most ``MAX_BUNDLE`` of them (default: the newest). With the
        events' states only for a grant on the whole deployment (DEPLOYMENT_AUDITOR); without
        them it proves the same tree."""
        may_verify(caller)
        with_state = sees_every_state(caller)
        services = services_of(request)
        size = services.ledger.ledger_size()
        end = size - 1 if last is None else last
        if end < 0:
            raise not_found("an entry (the ledger is empty)")
        if last is None:
            first = max(first, end - MAX_BUNDLE + 1)
        if not first <= end < size:
            raise invalid("query.to", f"entries {first}..{end} are not in the ledger")
        if end - first + 1 > MAX_BUNDLE:
            raise invalid("query.to", f"a bundle holds at most {MAX_BUNDLE} entries")
        if not services.exporting.acquire(blocking=False):
            raise Problem(
                503,
                "busy",
                "Bundles are being made",
                f"at most {MAX_EXPORTS} bundles are made at once; try again",
                headers={"Retry-After": "5"},
            )
        folder = Path(tempfile.mkdtemp(prefix="bewijslast-bundle-"))
        path = folder / f"ledger-{first}-{end}.zip"
        try:
            note = _signed_for(services, end)
            origin = note.split("\n", 1)[0]
            export_bundle(
                services.ledger,
                path,
                origin=origin,
                verifier_keys=[],
                first=first,
                last=end,
                with_state=with_state,
            )
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        finally:
            services.exporting.release()
        return FileResponse(
            path,
            media_type="application/zip",
            filename=path.name,
            background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True),
        )


def _within(field: str, tree_size: int, size: int) -> None:
    if tree_size > size:
        raise invalid(field, f"the ledger holds {size} entries")
