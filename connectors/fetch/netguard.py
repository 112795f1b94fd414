"""SSRF guard (adapter helper): refuse private, loopback, link-local and multicast targets.

Checked after DNS resolution and on every redirect hop, so a public name that resolves to
10.0.0.1 or a redirect to http://127.0.0.1/ is refused too. Networks listed in
`fetch.allowed_networks` are exempt (the test suite allowlists loopback).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Sequence
from urllib.parse import urlsplit

from pipeline.errors import FetchUnavailable, PageRejected

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
# (host, port) -> getaddrinfo-style tuples; injectable so tests never query a real resolver.
AddrInfo = Callable[[str, int], Awaitable[list[tuple[object, ...]]]]


async def system_getaddrinfo(host: str, port: int) -> list[tuple[object, ...]]:
    loop = asyncio.get_running_loop()
    return list(await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM))


def is_forbidden(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return (address.is_private or address.is_loopback or address.is_link_local
            or address.is_multicast or address.is_reserved or address.is_unspecified)


class NetworkGuard:
    def __init__(self, allowed: Sequence[str], getaddrinfo: AddrInfo = system_getaddrinfo) -> None:
        self._allowed: tuple[IPNetwork, ...] = tuple(
            ipaddress.ip_network(net, strict=False) for net in allowed)
        self._getaddrinfo = getaddrinfo

    def is_allowed(self, address: IPAddress) -> bool:
        if not is_forbidden(address):
            return True
        return any(address in net for net in self._allowed)

    async def check(self, url: str) -> None:
        """Raise PageRejected if url's host resolves to a forbidden address."""
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            literal = ipaddress.ip_address(host)
            addresses: list[IPAddress] = [literal]
        except ValueError:
            addresses = await self._resolve(host, port, url)
        for address in addresses:
            if not self.is_allowed(address):
                raise PageRejected(
                    f"refusing to fetch {url}: {host} resolves to non-public address {address}"
                    " (allow it in fetch.allowed_networks)", url=url, reason="ssrf-blocked")


    async def _resolve(self, host: str, port: int, url: str) -> list[IPAddress]:
        try:
            infos = await self._getaddrinfo(host, port)
        except socket.gaierror as err:
            raise FetchUnavailable(f"DNS lookup of {host} failed: {err}", url=url,
                                   reason="dns-error") from err
        return [ipaddress.ip_address(str(info[4][0])) for info in infos]  # type: ignore[index]
