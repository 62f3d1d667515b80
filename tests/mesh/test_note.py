"""C2SP signed notes and tlog checkpoints: the Go reference vector, round trips and every rejection reason."""

from __future__ import annotations

import base64

import nacl.signing
import pytest

from mesh.note import Checkpoint, NoteError, Signer, Verifier, open_checkpoint, parse_note, verify_note

# golang.org/x/mod/sumdb/note's documented example: an independent implementation to be byte-compatible with.
GO_SIGNER_KEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VERIFIER_KEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
GO_NOTE = (
    GO_TEXT + "\n\u2014 PeterNeumann "
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
ROOT = bytes(range(32))


def _signer(name: str = "log.example/dreamnet", seed: int = 1) -> Signer:
    return Signer(name, nacl.signing.SigningKey(bytes([seed]) * 32))


def test_it_matches_the_go_reference_byte_for_byte() -> None:
    seed = base64.b64decode(GO_SIGNER_KEY.split("+", 4)[4])[1:]
    signer = Signer("PeterNeumann", nacl.signing.SigningKey(seed))
    assert signer.verifier_key == GO_VERIFIER_KEY
    assert signer.sign(GO_TEXT) == GO_NOTE
    assert verify_note(GO_NOTE, Verifier.from_key(GO_VERIFIER_KEY)) == GO_TEXT
    assert verify_note(GO_NOTE.encode(), Verifier.from_key(GO_VERIFIER_KEY)) == GO_TEXT


def test_a_key_whose_base64_contains_a_plus_parses() -> None:
    # transparency-dev/formats test key: the split must stop at the second '+'.
    verifier = Verifier.from_key("TEST+7997405c+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6")
    assert verifier.name == "TEST"
    assert verifier.key_id.hex() == "7997405c"


def test_round_trip_keeps_blank_lines_inside_the_text() -> None:
    signer = _signer()
    text = "first\n\nthird after a blank line\n"
    note = signer.sign(text)
    assert note.startswith(text + "\n\u2014 log.example/dreamnet ")
    assert verify_note(note, Verifier.from_key(signer.verifier_key)) == text


def test_signatures_by_unknown_keys_are_ignored() -> None:
    log, witness = _signer(), _signer("witness.example", seed=2)
    note = log.sign("body\n")
    cosigned = note + witness.sign("body\n").rpartition("\n\n")[2]
    assert len(parse_note(cosigned)[1]) == 2
    assert verify_note(cosigned, Verifier.from_key(log.verifier_key)) == "body\n"
    assert verify_note(cosigned, Verifier.from_key(witness.verifier_key)) == "body\n"


def test_a_note_signed_by_another_key_is_rejected() -> None:
    note = _signer(seed=2).sign("body\n")
    with pytest.raises(NoteError, match=r"signed as log\.example/dreamnet by key ID [0-9a-f]{8}, a different key"):
        verify_note(note, Verifier.from_key(_signer(seed=1).verifier_key))
    with pytest.raises(
        NoteError,
        match=r"no signature by other\.example/log\+[0-9a-f]{8}; the note is signed by log\.example/dreamnet\+",
    ):
        verify_note(note, Verifier.from_key(_signer("other.example/log").verifier_key))


def test_a_signature_line_with_the_wrong_name_is_a_name_mismatch() -> None:
    signer = _signer()
    renamed = signer.sign("body\n").replace("\u2014 log.example/dreamnet ", "\u2014 impostor.example ")
    with pytest.raises(NoteError, match=r"name mismatch, the signature with its key ID names 'impostor\.example'"):
        verify_note(renamed, Verifier.from_key(signer.verifier_key))


def test_an_edited_body_line_is_rejected() -> None:
    signer = _signer()
    note = signer.sign(Checkpoint("log.example/dreamnet", 7, ROOT).to_text())
    edited = note.replace("\n7\n", "\n8\n", 1)
    with pytest.raises(
        NoteError, match=r"bad signature by log\.example/dreamnet\+[0-9a-f]{8}: the note text was altered"
    ):
        verify_note(edited, Verifier.from_key(signer.verifier_key))


def test_an_altered_signature_is_rejected() -> None:
    signer = _signer()
    text, (sig,) = parse_note(signer.sign("body\n"))
    forged = bytes([sig.signature[0] ^ 1]) + sig.signature[1:]
    note = f"{text}\n\u2014 {sig.name} {base64.b64encode(sig.key_id + forged).decode()}\n"
    with pytest.raises(NoteError, match="bad signature"):
        verify_note(note, Verifier.from_key(signer.verifier_key))


@pytest.mark.parametrize(
    ("note", "reason"),
    [
        ("body\n\u2014 log AAAAAAA=\n", "no blank line separates"),
        ("body\n\n", "no signature lines"),
        ("body\n\n\u2014 log AAAAAAAA", "does not end in a newline"),
        ("body\n\n-- log AAAAAAAA\n", "must start with an em dash"),
        ("body\n\n\u2014 log+x AAAAAAAA\n", "must not contain spaces, '\\+'"),
        ("body\n\n\u2014 log AAAA\n", "base64 of a 4-byte key ID and a signature"),
        ("body\n\n\u2014 log AAAAAAAA=\n", "base64 of a 4-byte key ID"),
        ("bo\tdy\n\n\u2014 log AAAAAAAA\n", "control character U\\+0009"),
        ("body\r\n\n\u2014 log AAAAAAAA\n", "control character U\\+000D"),
        (b"bod\xff\n\n\xe2\x80\x94 log AAAAAAAA\n", "not valid UTF-8"),
        ("body\n\n" + "\u2014 log AAAAAAAA\n" * 101, "at most 100"),
    ],
)
def test_malformed_notes_are_rejected_with_a_reason(note: str | bytes, reason: str) -> None:
    with pytest.raises(NoteError, match=reason):
        verify_note(note, Verifier.from_key(GO_VERIFIER_KEY))


@pytest.mark.parametrize(
    ("text", "reason"),
    [("no newline", "must end in a newline"), ("tab\there\n", "control character U\\+0009")],
)
def test_it_refuses_to_sign_text_a_verifier_would_reject(text: str, reason: str) -> None:
    with pytest.raises(NoteError, match=reason):
        _signer().sign(text)


@pytest.mark.parametrize("name", ["", "has space", "has+plus", "tab\tname"])
def test_it_refuses_invalid_key_names(name: str) -> None:
    with pytest.raises(NoteError, match="key name"):
        _signer(name)


@pytest.mark.parametrize(
    ("vkey", "reason"),
    [
        ("PeterNeumann", "must have the form name\\+keyid\\+base64key"),
        ("PeterNeumann+c74f20a3", "must have the form"),
        ("+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "key name is empty"),
        ("Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "must not contain spaces"),
        ("PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "must be 8 hexadecimal digits"),
        ("PeterNeumann+c74f20g3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "must be 8 hexadecimal digits"),
        ("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T", "not valid base64"),
        ("PeterNeumann+c74f20a3+", "not valid base64"),
        ("PeterNeumann+c74f20a3+AhpjnxOs8/EYGX0qgL2dXz/cmZc9hNqpCsqLmqtEqx+I", "signature type 0x02"),
        ("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy", "32 bytes, got 29"),
        ("PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "does not match .*expected c74f20a3"),
        ("PeterNeumanN+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "does not match its name"),
    ],
)
def test_malformed_verifier_keys_are_rejected_with_a_reason(vkey: str, reason: str) -> None:
    with pytest.raises(NoteError, match=reason):
        Verifier.from_key(vkey)


def test_no_mangling_of_a_verifier_key_is_accepted() -> None:
    # Ported from the Go reference's TestNewVerifier: every proper substring and every one-character bump fails.
    key = GO_VERIFIER_KEY
    for i in range(len(key)):
        for j in range(i + 1, len(key) + 1):
            if (i, j) != (0, len(key)):
                with pytest.raises(NoteError):
                    Verifier.from_key(key[i:j])
        with pytest.raises(NoteError):
            Verifier.from_key(key[:i] + chr(ord(key[i]) + 1) + key[i + 1 :])


def test_a_checkpoint_round_trips_through_a_signed_note() -> None:
    signer = _signer()
    checkpoint = Checkpoint("log.example/dreamnet", 20852163, ROOT, ("ext one",))
    text = checkpoint.to_text()
    assert text == f"log.example/dreamnet\n20852163\n{base64.b64encode(ROOT).decode()}\next one\n"
    assert Checkpoint.parse(text) == checkpoint
    assert open_checkpoint(signer.sign(text), Verifier.from_key(signer.verifier_key)) == checkpoint
    assert Checkpoint.parse("o\n0\n" + base64.b64encode(ROOT).decode() + "\n").size == 0


ROOT64 = base64.b64encode(ROOT).decode()


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (f"origin\n5\n{ROOT64}", "must end in a newline"),
        ("origin\n5\n", "needs origin, size and root hash lines; got 2"),
        (f"\n5\n{ROOT64}\n", "origin line is empty"),
        (f"origin\n05\n{ROOT64}\n", "'05' is not a decimal number without leading zeros"),
        (f"origin\n-5\n{ROOT64}\n", "not a decimal number"),
        (f"origin\n\u0665\n{ROOT64}\n", "not a decimal number"),  # an Arabic-Indic digit is not ASCII
        (f"origin\n{2**64}\n{ROOT64}\n", "must be an integer in \\[0, 2\\*\\*64\\)"),
        ("origin\n5\nAAAA\n", "not base64 of a 32-byte hash"),
        (f"origin\n5\n{ROOT64[:-1]}\n", "not base64 of a 32-byte hash"),
        (f"origin\n5\n{ROOT64[:-2]}9=\n", "not base64 of a 32-byte hash"),  # non-canonical trailing bits
        (f"origin\n5\n{ROOT64}\n\n", "extension line 1 must be a non-empty line"),
    ],
)
def test_malformed_checkpoints_are_rejected_with_a_reason(text: str, reason: str) -> None:
    with pytest.raises(NoteError, match=reason):
        Checkpoint.parse(text)


def test_a_checkpoint_validates_its_fields() -> None:
    with pytest.raises(NoteError, match="origin"):
        Checkpoint("two\nlines", 1, ROOT)
    with pytest.raises(NoteError, match="size"):
        Checkpoint("origin", -1, ROOT)
    with pytest.raises(NoteError, match="32 bytes"):
        Checkpoint("origin", 1, ROOT[:31])
