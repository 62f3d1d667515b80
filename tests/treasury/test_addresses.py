"""Per-chain address validation: every mistake gets its own code; watch-only refuses anything key-shaped."""

from __future__ import annotations

import base58
import pytest

from treasury.addresses import CHAINS, AddressError, address_clean

VITALIK = "0xd8dA6BF26964aF9D7eEd9e03E53415D37aA96045"
SOL = "4Qkev8aNZcqFNSRhQzwyLMFSsi94jHqE8WNVTJzTP99F"


def _code(chain: str, address: str) -> str:
    with pytest.raises(AddressError) as caught:
        address_clean(chain=chain, address=address)
    return caught.value.code


def test_it_keeps_a_checksummed_evm_address():
    assert address_clean(chain="ethereum", address=VITALIK) == VITALIK
    assert address_clean(chain="base", address=f"  {VITALIK} ") == VITALIK


def test_it_checksums_an_all_lower_case_address():
    assert address_clean(chain="polygon", address=VITALIK.lower()) == VITALIK


def test_it_refuses_a_wrong_checksum():
    wrong = VITALIK.replace("dA6BF", "da6BF")  # one letter's case flipped
    assert _code("ethereum", wrong) == "bad_checksum"


@pytest.mark.parametrize(
    "address",
    ["d8dA6BF26964aF9D7eEd9e03E53415D37aA96045", "0xd8dA6BF26964aF9D7eEd9e03E53415D37aA9604", "0xZZ" + "0" * 38],
)
def test_it_refuses_a_malformed_evm_address(address):
    assert _code("ethereum", address) == "bad_address_format"


def test_it_refuses_an_unsupported_chain():
    assert _code("bitcoin", "bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh") == "unsupported_chain"
    with pytest.raises(AddressError) as caught:
        address_clean(chain="bitcoin", address="x")
    assert all(chain in caught.value.detail for chain in CHAINS)


def test_it_refuses_private_keys_and_recovery_phrases():
    assert _code("ethereum", "0x" + "ab" * 32) == "private_key_refused"
    assert _code("solana", base58.b58encode(bytes(range(64))).decode()) == "private_key_refused"
    assert _code("ethereum", " ".join(["abandon"] * 11 + ["about"])) == "private_key_refused"


def test_it_accepts_a_solana_public_key():
    assert address_clean(chain="solana", address=SOL) == SOL


def test_it_refuses_non_base58_and_wrong_lengths_on_solana():
    assert _code("solana", SOL[:-1] + "0") == "bad_base58"
    assert _code("solana", SOL[:-1] + "l") == "bad_base58"
    assert _code("solana", base58.b58encode(b"\x01" * 31).decode()) == "bad_length"
    assert _code("solana", base58.b58encode(b"\x01" * 33).decode()) == "bad_length"


def test_vechain_addresses_are_stored_lower_case_and_checked_when_mixed():
    assert address_clean(chain="vechain", address=VITALIK) == VITALIK.lower()
    assert address_clean(chain="vechain", address=VITALIK.upper().replace("0X", "0x")) == VITALIK.lower()
    assert _code("vechain", VITALIK.replace("dA6BF", "da6BF")) == "bad_checksum"
    assert _code("vechain", "0x1234") == "bad_address_format"
