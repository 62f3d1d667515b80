"""Per-chain address validation for watch-only wallets (no Django).

`address_clean(chain=..., address=...)` returns the address in its canonical form or raises `AddressError` with a
code a client can act on. Watch-only: anything that looks like a private key or a seed phrase is refused, never
stored.

- EVM chains (`ethereum` and the other EVM chains in `EVM_CHAINS`): ``0x`` + 40 hex digits. A mixed-case address
  must pass its EIP-55 checksum (`eth_utils`); an all-lower or all-upper address carries no checksum and is
  stored checksummed.
- `solana`: base58 (Bitcoin alphabet) that decodes to a 32-byte Ed25519 public key.
- `vechain`: the same ``0x`` + 40 hex form; stored lower-case (Thor's own form); a mixed-case address must pass
  EIP-55 like an EVM one.
"""

from __future__ import annotations

import re

import base58
from eth_utils import is_checksum_address, to_checksum_address

# Chain name → Alchemy network slug (https://docs.alchemy.com/reference/api-overview: <network>.g.alchemy.com).
EVM_CHAINS: dict[str, str] = {
    "ethereum": "eth-mainnet",
    "polygon": "polygon-mainnet",
    "arbitrum": "arb-mainnet",
    "optimism": "opt-mainnet",
    "base": "base-mainnet",
}
# Chain name → the native asset's symbol and its CoinGecko id.
NATIVE: dict[str, tuple[str, str]] = {
    "ethereum": ("ETH", "ethereum"),
    "polygon": ("POL", "polygon-ecosystem-token"),
    "arbitrum": ("ETH", "ethereum"),
    "optimism": ("ETH", "ethereum"),
    "base": ("ETH", "ethereum"),
    "solana": ("SOL", "solana"),
    "vechain": ("VET", "vechain"),
}
# Chain name → CoinGecko asset platform id for /simple/token_price/{platform}.
PLATFORMS: dict[str, str] = {
    "ethereum": "ethereum",
    "polygon": "polygon-pos",
    "arbitrum": "arbitrum-one",
    "optimism": "optimistic-ethereum",
    "base": "base",
    "solana": "solana",
    "vechain": "vechain",
}
CHAINS: tuple[str, ...] = (*EVM_CHAINS, "solana", "vechain")

_HEX40 = re.compile(r"0x[0-9a-fA-F]{40}")
_HEX64 = re.compile(r"(0x)?[0-9a-fA-F]{64}")
_BASE58 = re.compile(r"[1-9A-HJ-NP-Za-km-z]+")


class AddressError(ValueError):
    """An address or chain that cannot be watched; ``code`` names the mistake."""

    def __init__(self, detail: str, *, code: str) -> None:
        super().__init__(detail)
        self.detail = detail
        self.code = code


def family(chain: str) -> str:
    """Return ``evm``, ``solana`` or ``vechain`` for a supported chain name."""
    if chain in EVM_CHAINS:
        return "evm"
    if chain in ("solana", "vechain"):
        return chain
    raise AddressError(
        f"Chain {chain!r} is not supported; use one of: {', '.join(CHAINS)}.",
        code="unsupported_chain",
    )


def _refuse_secrets(address: str) -> None:
    if len(address.split()) >= 12:
        raise AddressError(
            "That looks like a recovery phrase. Never share it: DreamNet is watch-only and needs only the public "
            "address.",
            code="private_key_refused",
        )
    if _HEX64.fullmatch(address):
        raise AddressError(
            "That is 64 hex digits, the shape of a private key, not an address (0x + 40 hex digits). DreamNet is "
            "watch-only and never takes a private key.",
            code="private_key_refused",
        )


def _hex_address(chain: str, address: str) -> str:
    if not address.startswith("0x"):
        raise AddressError(f"A {chain} address starts with 0x; got {address[:12]!r}.", code="bad_address_format")
    if not _HEX40.fullmatch(address):
        digits = len(address) - 2
        raise AddressError(
            f"A {chain} address is 0x followed by exactly 40 hex digits; got {digits} characters after 0x"
            + ("" if re.fullmatch(r"[0-9a-fA-F]*", address[2:]) else " including non-hex ones")
            + ".",
            code="bad_address_format",
        )
    body = address[2:]
    mixed = body != body.lower() and body != body.upper()
    if mixed and not is_checksum_address(address):
        raise AddressError(
            f"The EIP-55 checksum of {address} does not match (expected {to_checksum_address(address.lower())}); "
            "a character was mistyped. Copy the address again from the wallet.",
            code="bad_checksum",
        )
    return to_checksum_address(address.lower())


def _solana_address(address: str) -> str:
    if not _BASE58.fullmatch(address):
        bad = sorted({c for c in address if not _BASE58.fullmatch(c)})
        raise AddressError(
            f"A Solana address is base58; {''.join(bad)!r} is not in the base58 alphabet (no 0, O, I or l).",
            code="bad_base58",
        )
    raw = base58.b58decode(address)
    if len(raw) == 64:
        raise AddressError(
            "That decodes to 64 bytes, the shape of a Solana secret key. DreamNet is watch-only and needs only the "
            "public address (32 bytes).",
            code="private_key_refused",
        )
    if len(raw) != 32:
        raise AddressError(
            f"A Solana address decodes to a 32-byte public key; this one decodes to {len(raw)} bytes.",
            code="bad_length",
        )
    return address


def address_clean(*, chain: str, address: str) -> str:
    """Return ``address`` in its canonical form for ``chain``; raise AddressError naming the mistake."""
    chain = (chain or "").strip().lower()
    kind = family(chain)
    address = (address or "").strip()
    if not address:
        raise AddressError("The address is empty.", code="bad_address_format")
    _refuse_secrets(address)
    if kind == "solana":
        return _solana_address(address)
    checked = _hex_address(chain, address)
    return checked.lower() if kind == "vechain" else checked
