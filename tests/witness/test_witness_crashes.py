"""The witness process killed with SIGKILL at any moment: what a client was given stays
cosigned, the state never goes back, and it carries on from where it stood."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from adapters.witness.store import cosigned_in
from ledger.checkpoint import Checkpoint, sign_checkpoint
from ledger.merkle import consistency_proof, tree_root
from ledger.note import NoteSigner
from ledger.witness import AddCheckpoint
from tests.bus.rabbitmq import free_port
from tests.persistence.stores import sqlite_recorder
from tests.witness.conftest import ORIGIN, Ledger, post

pytestmark = pytest.mark.long


def start_witness(tmp_path: Path, port: int) -> subprocess.Popen[bytes]:
    bewijslast = Path(sys.executable).with_name("bewijslast")
    process = subprocess.Popen(
        [
            str(bewijslast), "witness", "serve",
            "--key", str(tmp_path / "w" / "witness.key"),
            "--store", str(tmp_path / "witness.db"),
            "--log", str(tmp_path / "ledger.vkey"),
            "--port", str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/checkpoints", timeout=1).close()
            return process
        except OSError:
            assert process.poll() is None, "the witness did not start"
            assert time.monotonic() < deadline, "the witness did not start in time"
            time.sleep(0.1)


def test_kill_9_never_loses_a_given_cosignature_nor_rolls_back(tmp_path):
    assert (
        subprocess.run(
            [
                str(Path(sys.executable).with_name("bewijslast")),
                "witness", "keys", "generate", "--name", "fg.example/witness",
                "--out", str(tmp_path / "w"),
            ],
            capture_output=True,
        ).returncode
        == 0
    )  # fmt: skip
    signer = NoteSigner.generate(ORIGIN)
    (tmp_path / "ledger.vkey").write_text(signer.vkey() + "\n")
    ledger = Ledger(sqlite_recorder(str(tmp_path / "ledger.db")), signer, tmp_path / "state")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    ledger.append(1)
    process = start_witness(tmp_path, port)
    assert post(url, AddCheckpoint(0, [], ledger.sign()))[0] == 200
    given = 1  # the largest size the client holds a cosignature for
    for round in range(4):
        if round:
            process = start_witness(tmp_path, port)
        # Where the witness stands after the kill: at least what it gave, a 409 says.
        status, _, body = post(url, AddCheckpoint(0, [], ledger.sign()))
        held = int(body)
        assert status == 409
        assert held >= given
        root_held = tree_root(held, ledger.recorder)
        [kept] = cosigned_in(tmp_path / "witness.db")
        assert (kept.checkpoint.size, kept.checkpoint.root) == (held, root_held)
        given = held
        stop = threading.Event()

        def feed(start: int, stop: threading.Event = stop) -> None:
            nonlocal given
            old = start
            while not stop.is_set():
                ledger.append(1)
                size = ledger.recorder.ledger_size()
                checkpoint = Checkpoint(ORIGIN, size, tree_root(size, ledger.recorder))
                note = sign_checkpoint(checkpoint, signer)
                proof = consistency_proof(old, size, ledger.recorder)
                try:
                    status, _, _ = post(url, AddCheckpoint(old, proof, note))
                except (urllib.error.URLError, ConnectionError, OSError):
                    return
                assert status == 200
                old = given = size

        feeding = threading.Thread(target=feed, args=(held,))
        feeding.start()
        time.sleep(random.uniform(0.3, 1.2))
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        stop.set()
        feeding.join()
    assert given > 1
