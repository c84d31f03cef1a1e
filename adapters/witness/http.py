"""The witness over HTTP: C2SP tlog-witness ``POST /add-checkpoint``, and what it cosigned.

Each refusal has the status tlog-witness gives it; a 409 carries the witness's size as
``text/x.tlog.size``, so a client without state learns where to continue from.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, HTTPException, Request, Response
from fastapi.responses import PlainTextResponse
from starlette.concurrency import run_in_threadpool

from adapters.witness.store import WitnessStore
from ledger.errors import MalformedInput
from ledger.witness import (
    MAX_REQUEST_BYTES,
    SIZE_CONTENT_TYPE,
    AddCheckpoint,
    SizeConflict,
    WitnessRefusal,
)

TEXT = "text/plain; charset=utf-8"


def create_witness_app(store: WitnessStore) -> FastAPI:
    api = FastAPI(
        title="Bewijslast witness",
        description="A C2SP tlog-witness: cosigns checkpoints of the ledgers it watches.",
    )

    @api.post("/add-checkpoint", response_class=PlainTextResponse)
    async def add_checkpoint(request: Request) -> Response:
        """Cosign a checkpoint consistent with the last one cosigned for its origin."""
        body = await _bounded_body(request)
        try:
            parsed = AddCheckpoint.parse(body.decode("utf-8"))
            line = await run_in_threadpool(store.add_checkpoint, parsed)
        except SizeConflict as conflict:
            # Exactly this type, without the charset Starlette adds to a text media type.
            headers = {"Content-Type": SIZE_CONTENT_TYPE}
            return Response(f"{conflict.size}\n", 409, headers=headers)
        except WitnessRefusal as refusal:
            return PlainTextResponse(refusal.message + "\n", refusal.status)
        except (MalformedInput, UnicodeDecodeError) as e:
            return PlainTextResponse(f"{e}\n", 400)
        return PlainTextResponse(line, media_type=TEXT)

    @api.get("/checkpoints")
    def checkpoints() -> Any:
        """The latest checkpoint this witness cosigned for each ledger it watches."""
        return {
            "items": [
                {
                    "origin": c.checkpoint.origin,
                    "size": c.checkpoint.size,
                    "cosigned_at": c.cosigned_at,
                    "note": c.note,
                }
                for c in store.cosigned()
            ]
        }

    return api


async def _bounded_body(request: Request) -> bytes:
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_REQUEST_BYTES:
            raise HTTPException(413, f"a request is at most {MAX_REQUEST_BYTES} bytes")
    return body
