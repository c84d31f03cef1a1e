"""``bewijslast serve``: API, checkpointer, read models and (with a broker configured) the
relay, in one process on the embedded default."""

from __future__ import annotations

import argparse
import asyncio
import os
import threading
from typing import Any

from adapters.config import Settings


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    """API, checkpointer, read models and (with a broker configured) the relay, in one
    process; SIGTERM or Ctrl-C stops them in order, nothing half done."""
    import uvicorn

    from adapters.api.app import create_app
    from adapters.api.auth import OIDC, Authenticator
    from adapters.api.keys import ApiKeys
    from adapters.cli import checkpointer_for, open_application, signer_of
    from adapters.projection_runner import ProjectionRunner
    from projections.catalogue import all_projections

    app = open_application(settings)
    authenticator = Authenticator(ApiKeys(app.factory.datastore), OIDC.from_environ())  # type: ignore[attr-defined]
    api = create_app(app, authenticator, signer_of(settings, app))
    checkpointer = None
    if settings.signing_key_file is not None:
        checkpointer = checkpointer_for(settings, app)
        checkpointer.start()
    runner = ProjectionRunner(app, all_projections())
    projecting = threading.Thread(target=runner.run, name="projections", daemon=True)
    projecting.start()
    server = uvicorn.Server(uvicorn.Config(api, host=args.host, port=args.port, log_level="info"))
    broker = os.environ.get("BEWIJSLAST_BROKER_URL")

    async def everything() -> None:
        if not broker:
            await server.serve()
            return
        from adapters.relay.relay import run_relay_until

        stopping = asyncio.Event()
        relay = asyncio.create_task(run_relay_until(settings, app, broker, stopping))
        try:
            await server.serve()
        finally:
            stopping.set()
            await relay

    try:
        asyncio.run(everything())
    finally:
        runner.stop()
        projecting.join()
        if checkpointer is not None:
            checkpointer.stop()
            checkpointer.checkpoint()  # everything added until now is signed
    return 0


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    serve = commands.add_parser(
        "serve", parents=[common], help="API, checkpoints, read models and relay in one process"
    )
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.set_defaults(run=cmd_serve)
