"""C2SP signed notes, checkpoints and tlog-proof receipts."""

from __future__ import annotations

import base64
import hashlib
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.checkpoint import Checkpoint, open_checkpoint, sign_checkpoint
from ledger.entry import ChainHead, NewEvent, extend_chain
from ledger.errors import BadSignature, LedgerError, MalformedInput
from ledger.merkle import MemoryTree, inclusion_proof
from ledger.note import COSIGNATURE_V1, NoteSigner, NoteVerifier, cosign, open_note, sign_note
from ledger.receipt import Receipt, verify_receipt

SPEC_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
SPEC_NOTE = (
    "This is an example message.\n\n"
    "\u2014 example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1"
    "ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"
)
ORIGIN = "ledger.bunschoten.nl/bewijslast"


def test_the_c2sp_example_note_verifies():
    verifier = NoteVerifier.from_vkey(SPEC_VKEY)
    assert verifier.key_id.hex() == "530d903a"
    text, signed_by = open_note(SPEC_NOTE, [verifier])
    assert text == "This is an example message.\n"
    assert signed_by == [verifier]


def test_the_go_sumdb_example_vkey_parses():
    verifier = NoteVerifier.from_vkey(
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
    )
    assert verifier.name == "PeterNeumann"


def test_a_vkey_with_a_wrong_id_is_refused():
    with pytest.raises(MalformedInput):
        NoteVerifier.from_vkey(SPEC_VKEY.replace("530d903a", "530d903b"))


def test_keys_round_trip_through_their_text_forms():
    signer = NoteSigner.generate(ORIGIN)
    again = NoteSigner.from_skey(signer.skey())
    assert again.vkey() == signer.vkey()
    note = sign_note("hello\n", [again])
    open_note(note, [NoteVerifier.from_vkey(signer.vkey())])


def test_signatures_by_unknown_keys_are_ignored_but_one_known_key_must_sign():
    known, stranger = NoteSigner.generate(ORIGIN), NoteSigner.generate("stranger.example")
    note = sign_note("text\n", [stranger, known])
    _, signed_by = open_note(note, [NoteVerifier.from_vkey(known.vkey())])
    assert [v.name for v in signed_by] == [ORIGIN]
    with pytest.raises(BadSignature):
        open_note(sign_note("text\n", [stranger]), [NoteVerifier.from_vkey(known.vkey())])


def test_every_bit_flip_in_a_signature_or_text_is_refused():
    signer = NoteSigner.generate(ORIGIN)
    verifier = NoteVerifier.from_vkey(signer.vkey())
    note = sign_note("ledger\n42\n", [signer])
    text, line = note.split("\n\n")
    name, encoded = line[2:].strip().split(" ")
    blob = base64.b64decode(encoded)
    for bit in range(len(blob) * 8):
        flipped = bytearray(blob)
        flipped[bit // 8] ^= 1 << (bit % 8)
        forged = f"{text}\n\n\u2014 {name} {base64.b64encode(bytes(flipped)).decode()}\n"
        with pytest.raises(LedgerError):
            open_note(forged, [verifier])
    with pytest.raises(BadSignature):
        open_note(note.replace("42", "43"), [verifier])


@pytest.mark.parametrize(
    "note",
    [
        "text\n\n\u2014 a AAAA",  # no final newline
        "text\n\u2014 a AAAAAAAA\n",  # no blank line
        "te\txt\n\n\u2014 a AAAAAAAA\n",  # a control character
        "text\n\n- a AAAAAAAA\n",  # a hyphen, not an em dash
        "text\n\n\u2014 a not*base64\n",
    ],
)
def test_malformed_notes_are_refused(note):
    with pytest.raises(MalformedInput):
        open_note(note, [NoteVerifier.from_vkey(SPEC_VKEY)])


def test_a_witness_cosignature_verifies_and_binds_its_time():
    witness = NoteSigner("fg.bunschoten.nl/witness", Ed25519PrivateKey.generate(), COSIGNATURE_V1)
    verifier = NoteVerifier.from_vkey(witness.vkey())
    body = Checkpoint(ORIGIN, 5, bytes(32)).body()
    line = cosign(body, witness, 1_700_000_000)
    open_note(body + "\n" + line, [verifier])
    blob = bytearray(base64.b64decode(line.split(" ")[2]))
    blob[4 + 7] ^= 1  # the timestamp's last byte
    forged = line.split(" ")[0] + " " + witness.name + " " + base64.b64encode(blob).decode() + "\n"
    with pytest.raises(BadSignature):
        open_note(body + "\n" + forged, [verifier])


def test_a_checkpoint_body_is_exactly_three_lines():
    checkpoint = Checkpoint(ORIGIN, 1234, hashlib.sha256(b"x").digest())
    body = checkpoint.body()
    assert body == f"{ORIGIN}\n1234\n{base64.b64encode(checkpoint.root).decode()}\n"
    assert Checkpoint.parse(body) == checkpoint


@pytest.mark.parametrize(
    "body",
    [
        f"{ORIGIN}\n01\n{base64.b64encode(bytes(32)).decode()}\n",
        f"{ORIGIN}\n1\n{base64.b64encode(bytes(32)).decode()}\nextension\n",
        f"{ORIGIN}\n1\n{base64.b64encode(bytes(31)).decode()}\n",
        f"\n1\n{base64.b64encode(bytes(32)).decode()}\n",
    ],
)
def test_checkpoints_out_of_format_are_refused(body):
    with pytest.raises(MalformedInput):
        Checkpoint.parse(body)


def test_only_the_origins_own_key_signs_its_checkpoints():
    other = NoteSigner.generate("someone.else/ledger")
    body = Checkpoint(ORIGIN, 1, bytes(32)).body()
    with pytest.raises(BadSignature):
        open_checkpoint(sign_note(body, [other]), [NoteVerifier.from_vkey(other.vkey())])


def small_ledger(count: int = 11):
    streams = [str(uuid.uuid4()) for _ in range(3)]
    events = [
        NewEvent(streams[i % 3], i // 3 + 1, "domain:Event", b"state %d" % i) for i in range(count)
    ]
    links = extend_chain(ChainHead.empty(), events, datetime(2026, 11, 23, tzinfo=UTC), {})
    return links, MemoryTree([link.leaf_hash for link in links])


def test_receipts_have_the_tlog_proof_layout_and_verify():
    signer = NoteSigner.generate(ORIGIN)
    links, tree = small_ledger()
    note = sign_checkpoint(Checkpoint(ORIGIN, tree.size, tree.root()), signer)
    for link in links:
        index = link.entry.index
        path = inclusion_proof(index, tree.size, tree)
        text = Receipt(link.entry.to_bytes(), index, path, note).format()
        lines = text.split("\n")
        assert lines[0] == "c2sp.org/tlog-proof@v1"
        assert lines[1] == "extra " + base64.b64encode(link.entry.to_bytes()).decode()
        assert lines[2] == f"index {index}"
        assert lines[3 : 3 + len(path)] == [base64.b64encode(h).decode() for h in path]
        assert lines[3 + len(path)] == ""
        assert text.endswith(note)
        entry, checkpoint = verify_receipt(text, [NoteVerifier.from_vkey(signer.vkey())])
        assert entry == link.entry
        assert checkpoint.size == tree.size


def test_every_bit_flip_in_a_receipt_is_refused():
    """Extra, path, size, root and signature: each bit of each is covered."""
    signer = NoteSigner.generate(ORIGIN)
    verifier = NoteVerifier.from_vkey(signer.vkey())
    links, tree = small_ledger(6)
    note = sign_checkpoint(Checkpoint(ORIGIN, tree.size, tree.root()), signer)
    text = Receipt(links[3].entry.to_bytes(), 3, inclusion_proof(3, tree.size, tree), note).format()
    verify_receipt(text, [verifier])
    for position, char in enumerate(text):
        if char == "\n":
            continue
        for bit in range(7):
            altered = chr(ord(char) ^ (1 << bit))
            forged = text[:position] + altered + text[position + 1 :]
            with pytest.raises(LedgerError):
                verify_receipt(forged, [verifier])


def test_a_receipt_for_another_index_is_refused():
    signer = NoteSigner.generate(ORIGIN)
    links, tree = small_ledger()
    note = sign_checkpoint(Checkpoint(ORIGIN, tree.size, tree.root()), signer)
    text = Receipt(links[4].entry.to_bytes(), 5, inclusion_proof(5, tree.size, tree), note).format()
    with pytest.raises(LedgerError):
        verify_receipt(text, [NoteVerifier.from_vkey(signer.vkey())])


def test_recorded_at_never_decreases_across_a_clock_step_back():
    links_before = extend_chain(
        ChainHead.empty(),
        [NewEvent(str(uuid.uuid4()), 1, "t", b"")],
        datetime(2026, 3, 29, 1, 0, tzinfo=UTC),
        {},
    )
    head = ChainHead(1, links_before[0].chain_hash, links_before[0].entry.recorded_at)
    later = extend_chain(
        head,
        [NewEvent(str(uuid.uuid4()), 1, "t", b"")],
        datetime(2026, 3, 29, 1, 0, tzinfo=UTC) - timedelta(seconds=5),
        {},
    )
    assert (
        later[0].entry.recorded_at
        == links_before[0].entry.recorded_at
        == "2026-03-29T01:00:00.000000Z"
    )
