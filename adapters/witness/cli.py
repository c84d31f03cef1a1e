"""``bewijslast witness``: keys, the service, and what it cosigned.

The FG, a neighbouring municipality, VNG or the AP runs it with its own key and store; it
watches the ledgers whose verifier keys it is given (``--log``, one file per ledger or one
with several lines).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from adapters.config import ConfigurationError, Settings
from adapters.signing_keys import read_private_key, read_vkeys, write_key_files
from ledger.note import COSIGNATURE_V1, NoteSigner, NoteVerifier

KEY_ENV = "BEWIJSLAST_WITNESS_KEY_FILE"
STORE_ENV = "BEWIJSLAST_WITNESS_STORE"
LOGS_ENV = "BEWIJSLAST_WITNESS_LOGS"


def cmd_keys_generate(args: argparse.Namespace, settings: Settings) -> int:
    signer = NoteSigner.generate(args.name, COSIGNATURE_V1)
    key_file, vkey_file = write_key_files(signer, args.out, "witness")
    print(f"private key: {key_file} (mode 600; only the witness reads it)")
    print(f"verifier key: {vkey_file} (give it to whoever checks cosignatures)")
    print(signer.vkey())
    return 0


def witness_signer(path: Path) -> NoteSigner:
    signer = read_private_key(path)
    if signer.key_type != COSIGNATURE_V1:
        raise ConfigurationError(
            f"{path} is not a witness key: make one with 'bewijslast witness keys generate'"
        )
    return signer


def watched_logs(paths: list[Path]) -> list[NoteVerifier]:
    logs = [NoteVerifier.from_vkey(line) for path in paths for line in read_vkeys(path)]
    if not logs:
        raise ConfigurationError(f"no ledger to watch: give --log VKEY_FILE (or {LOGS_ENV})")
    return logs


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from adapters.witness.http import create_witness_app
    from adapters.witness.store import WitnessStore

    key = args.key or _env_path(KEY_ENV)
    store_path = args.store or _env_path(STORE_ENV)
    logs = args.log or [Path(p) for p in os.environ.get(LOGS_ENV, "").split(":") if p]
    if key is None or store_path is None:
        raise ConfigurationError(f"the witness needs --key ({KEY_ENV}) and --store ({STORE_ENV})")
    store = WitnessStore(store_path, witness_signer(key), watched_logs(logs))
    names = ", ".join(store.logs)
    print(f"witness {store.signer.vkey()} watching {names}", file=sys.stderr, flush=True)
    uvicorn.run(create_witness_app(store), host=args.host, port=args.port, log_level="info")
    return 0


def cmd_show(args: argparse.Namespace, settings: Settings) -> int:
    from adapters.witness.store import cosigned_in

    path = args.store or _env_path(STORE_ENV)
    if path is None or not path.exists():
        raise ConfigurationError(f"no witness store: give --store FILE ({STORE_ENV})")
    for cosigned in cosigned_in(path):
        checkpoint = cosigned.checkpoint
        print(f"{checkpoint.origin} size {checkpoint.size} cosigned at {cosigned.cosigned_at}")
        print(cosigned.note)
    return 0


def _env_path(name: str) -> Path | None:
    value = os.environ.get(name)
    return Path(value) if value else None


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    witness = commands.add_parser(
        "witness", help="a witness that cosigns ledgers (C2SP tlog-witness)"
    ).add_subparsers(dest="witness_command", required=True)
    keys = witness.add_parser("keys", help="the witness's key").add_subparsers(
        dest="witness_keys_command", required=True
    )
    generate = keys.add_parser("generate", help="make a witness (cosignature) key")
    generate.add_argument("--name", required=True, help="e.g. fg.bunschoten.nl/witness")
    generate.add_argument("--out", type=Path, required=True, help="the folder for the key files")
    generate.set_defaults(run=cmd_keys_generate)

    serve = witness.add_parser("serve", help="serve POST /add-checkpoint")
    serve.add_argument("--key", type=Path, help=f"the witness's private key ({KEY_ENV})")
    serve.add_argument("--store", type=Path, help=f"its SQLite file ({STORE_ENV})")
    serve.add_argument(
        "--log",
        type=Path,
        action="append",
        default=[],
        help=f"verifier key file of a ledger to watch, repeatable ({LOGS_ENV}, ':'-separated)",
    )
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8100)
    serve.set_defaults(run=cmd_serve)

    show = witness.add_parser("show", help="the latest checkpoint cosigned per ledger")
    show.add_argument("--store", type=Path, help=f"the witness's SQLite file ({STORE_ENV})")
    show.set_defaults(run=cmd_show)
