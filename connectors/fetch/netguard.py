"""SSRF guard (adapter helper): connect only to public addresses, and only to the one checked.

Every address that is not globally routable is refused: private, loopback, link-local, shared
(100.64.0.0/10, where a cloud metadata service may live), IETF protocol assignments
(192.0.0.0/24), documentation and benchmark ranges, multicast, site-local IPv6 (fec0::/10),
and IPv4 addresses smuggled inside IPv6 (mapped, 6to4 2002::/16, NAT64 64:ff9b::/96). Networks
listed in `fetch.allowed_networks` are exempt (the test suite allowlists loopback).

The check runs where the connection is made: `GuardedBackend` is httpx's network backend, so a
name is resolved once per connection and the socket goes to the address that passed. Checking
first and letting the client resolve again would let a DNS answer change in between (DNS
rebinding). A redirect hop to a literal address is refused before it is requested
(`NetworkGuard.check_literal`); one to a name meets the backend when its connection opens.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
import typing
from collections.abc import Awaitable, Callable, Sequence
from urllib.parse import urlsplit

import httpcore

from pipeline.errors import FetchUnavailable, PageRejected

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
# (host, port) -> getaddrinfo-style tuples; injectable so tests never query a real resolver.
AddrInfo = Callable[[str, int], Awaitable[list[tuple[object, ...]]]]
# Not global, but missing from the stdlib's lists on some Python versions.
EXTRA_FORBIDDEN: tuple[IPNetwork, ...] = tuple(ipaddress.ip_network(n) for n in (
    "0.0.0.0/8", "100.64.0.0/10", "192.0.0.0/24", "198.18.0.0/15", "240.0.0.0/4",
    "fec0::/10", "64:ff9b:1::/48"))
NAT64 = ipaddress.ip_network("64:ff9b::/96")


async def system_getaddrinfo(host: str, port: int) -> list[tuple[object, ...]]:
    loop = asyncio.get_running_loop()
    return list(await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM))


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, 6to4, NAT64), if any."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_forbidden(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        inner = embedded_ipv4(address)
        if inner is not None and is_forbidden(inner):
            return True
        if address.is_site_local:
            return True
    return (not address.is_global or address.is_multicast or address.is_reserved
            or address.is_unspecified or any(address in net for net in EXTRA_FORBIDDEN
                                             if net.version == address.version))


def is_certificate_error(err: BaseException) -> bool:
    """Whether a connection failed on the server's certificate (not on the network)."""
    while err is not None:
        if isinstance(err, ssl.SSLCertVerificationError):
            return True
        err = err.__cause__ or err.__context__  # type: ignore[assignment]
    return False


class NetworkGuard:
    def __init__(self, allowed: Sequence[str], getaddrinfo: AddrInfo = system_getaddrinfo) -> None:
        self._allowed: tuple[IPNetwork, ...] = tuple(
            ipaddress.ip_network(net, strict=False) for net in allowed)
        self._getaddrinfo = getaddrinfo

    def is_allowed(self, address: IPAddress) -> bool:
        if not is_forbidden(address):
            return True
        return any(address in net for net in self._allowed)

    def check_literal(self, url: str) -> None:
        """Refuse a URL whose host is a forbidden literal address (names: `addresses`)."""
        host = urlsplit(url).hostname or ""
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return
        self._refuse_unless_allowed(address, host, url)

    async def addresses(self, host: str, port: int) -> list[IPAddress]:
        """The addresses `host` may be reached at: resolved once, each one checked."""
        try:
            found: list[IPAddress] = [ipaddress.ip_address(host)]
        except ValueError:
            try:
                infos = await self._getaddrinfo(host, port)
            except socket.gaierror as err:
                raise FetchUnavailable(f"DNS lookup of {host} failed: {err}", url=host,
                                       reason="dns-error") from err
            found = list(dict.fromkeys(
                ipaddress.ip_address(str(info[4][0]).split("%")[0])  # type: ignore[index]
                for info in infos))
        for address in found:
            self._refuse_unless_allowed(address, host, f"{host}:{port}")
        return found

    def _refuse_unless_allowed(self, address: IPAddress, host: str, target: str) -> None:
        if not self.is_allowed(address):
            raise PageRejected(
                f"refusing to fetch {target}: {host} is the non-public address {address}"
                " (allow it in fetch.allowed_networks)", url=target, reason="ssrf-blocked")


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend, connecting only to addresses the guard allowed."""

    def __init__(self, guard: NetworkGuard,
                 inner: httpcore.AsyncNetworkBackend | None = None) -> None:
        self._guard = guard
        self._inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None,
                          socket_options: typing.Iterable[typing.Any] | None = None,
                          ) -> httpcore.AsyncNetworkStream:
        last: Exception | None = None
        for address in await self._guard.addresses(host, port):
            try:
                return await self._inner.connect_tcp(str(address), port, timeout=timeout,
                                                     local_address=local_address,
                                                     socket_options=socket_options)
            except httpcore.ConnectError as err:  # the next address of the name, if any
                last = err
        assert last is not None
        raise last

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: typing.Iterable[typing.Any] | None = None,
                                  ) -> httpcore.AsyncNetworkStream:
        raise PageRejected(f"refusing to connect to the unix socket {path}", url=path,
                           reason="ssrf-blocked")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)
