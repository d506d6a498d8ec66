"""Addresses as Go parses them (net.ParseIP, net.ParseCIDR, net.ParseMAC).

Dotted-quad IPv4 without leading zeros, RFC 4291 IPv6 text without a zone
index; an IPv4-mapped IPv6 address counts as IPv4 (Go's To4).

The ipaddress module is slow (microseconds an address) and a node's logs
repeat the same few subnets, gateways and routes: parses are kept by text in
bounded LRUs (addresses are immutable, so sharing them is safe).
"""

from __future__ import annotations

import ipaddress
import re
from functools import lru_cache

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


CACHED = 4096  # distinct texts kept per parse
_MAX_TEXT = 64  # longer texts are no address anyone logs: not kept


def parse_ip(text: object) -> IPAddress | None:
    """An IP address, or None when Go's net.ParseIP would return nil."""
    if not isinstance(text, str) or not text or "%" in text or "/" in text:
        return None
    return _parse_ip(text) if len(text) <= _MAX_TEXT else _parse_ip.__wrapped__(text)


@lru_cache(maxsize=CACHED)
def _parse_ip(text: str) -> IPAddress | None:
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def parse_cidr(text: object) -> tuple[IPAddress, int] | None:
    """(address, prefix length) of `IP/prefix`, or None when Go's
    net.ParseCIDR fails (bare IP, bad prefix, prefix too long)."""
    if not isinstance(text, str) or text.count("/") != 1:
        return None
    return _parse_cidr(text) if len(text) <= _MAX_TEXT else _parse_cidr.__wrapped__(text)


@lru_cache(maxsize=CACHED)
def _parse_cidr(text: str) -> tuple[IPAddress, int] | None:
    address_text, prefix_text = text.split("/")
    if not prefix_text.isdigit() or not prefix_text.isascii() or len(prefix_text) > 3:
        return None
    address = parse_ip(address_text)
    if address is None:
        return None
    prefix = int(prefix_text)
    mapped = ":" in address_text and address.version == 4
    bits = 128 if mapped else address.max_prefixlen
    if prefix > bits:
        return None
    if mapped:
        prefix = max(prefix - 96, 0)
    return address, prefix


@lru_cache(maxsize=CACHED)
def network(address: IPAddress, prefix: int) -> IPNetwork:
    return ipaddress.ip_network(f"{address}/{prefix}", strict=False)


def family(address: IPAddress) -> str:
    """ "4" or "6", as ips[].version writes it."""
    return str(address.version)


@lru_cache(maxsize=CACHED)
def has_host_bits(address: IPAddress, prefix: int) -> bool:
    return network(address, prefix).network_address != address


_MAC_COLON = re.compile(r"[0-9A-Fa-f]{2}(?:([:-])[0-9A-Fa-f]{2})+")
_MAC_48 = re.compile(r"[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5}|[0-9A-Fa-f]{2}(?:-[0-9A-Fa-f]{2}){5}")
_MAC_DOT = re.compile(r"[0-9A-Fa-f]{4}(?:\.[0-9A-Fa-f]{4})+")


def parse_mac(text: object) -> bool:
    """Whether Go's net.ParseMAC accepts it: 6, 8 or 20 octets, as hex pairs
    joined by ':' or '-' (one kind), or dot-separated groups of 4 hex digits."""
    if not isinstance(text, str):
        return False
    if _MAC_48.fullmatch(text):
        return True  # the usual form: 6 octets, one kind of separator
    if _MAC_COLON.fullmatch(text):
        separators = {text[i] for i in range(2, len(text), 3)}
        octets = (len(text) + 1) // 3
        return len(separators) == 1 and octets in (6, 8, 20)
    if _MAC_DOT.fullmatch(text):
        octets = (len(text) + 1) // 5 * 2
        return octets in (6, 8, 20)
    return False


def clear_caches() -> None:
    """Forget the kept parses (benchmarks measure a cold start)."""
    for cached in (_parse_ip, _parse_cidr, network, has_host_bits):
        cached.cache_clear()
