"""The SSRF guard: webhooks go only to public addresses, checked on the resolved address at
send time (a name that resolves to 10.0.0.1 today is refused, whatever it resolved to when the
endpoint was saved), unless an operator allow-lists a network."""

import ipaddress
import socket
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Ranges Python's is_global does not refuse on every version. NAT64 (64:ff9b::/96) is refused
# as reserved; its IPv4 address is named in the reason.
_EXTRA_REFUSED: tuple[IPNetwork, ...] = tuple(
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",
        "100.64.0.0/10",  # carrier-grade NAT
        "192.0.0.0/24",
        "192.0.2.0/24",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",
        "240.0.0.0/4",
        "64:ff9b:1::/48",
        "100::/64",
        "2001::/23",
        "2001:db8::/32",
        "2002::/16",  # 6to4
        "fc00::/7",
        "fe80::/10",
        "fec0::/10",
        "ff00::/8",
    )
)

Resolver = Callable[[str, int], Sequence[str]]


class AddressRefused(Exception):
    """The webhook URL points somewhere the service must not send to."""


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in ipaddress.ip_network("64:ff9b::/96"):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    return None


@dataclass(frozen=True)
class AllowEntry:
    """An allow-listed network, on one port or (port None) on any."""

    network: IPNetwork
    port: int | None = None

    def admits(self, address: IPAddress, port: int | None) -> bool:
        return address in self.network and (self.port is None or self.port == port)


def parse_allow_entry(text: str) -> AllowEntry:
    """`127.0.0.0/8`, `127.0.0.1:8001`, `::1`, `[::1]:8001` or `[fd00::/8]:443`."""
    value = text.strip()
    port: int | None = None
    if value.startswith("["):
        inner, _, rest = value[1:].partition("]")
        if rest:
            if not rest.startswith(":") or not rest[1:].isdigit():
                raise ValueError(f"{text!r}: expected [address]:port")
            port = int(rest[1:])
        value = inner
    elif value.count(":") == 1:  # IPv4 with a port; IPv6 has more colons
        value, _, port_text = value.partition(":")
        if not port_text.isdigit():
            raise ValueError(f"{text!r}: the port is not a number")
        port = int(port_text)
    if port is not None and not 0 < port < 65536:
        raise ValueError(f"{text!r}: the port is out of range")
    return AllowEntry(ipaddress.ip_network(value, strict=False), port)


def parse_allow_list(values: Iterable[str]) -> tuple[AllowEntry, ...]:
    return tuple(parse_allow_entry(value) for value in values)


@dataclass(frozen=True)
class PickedAddress:
    address: str
    # Not public, let through only by the operator's allow-list: what answers there is not
    # shown to the partner (it could be any local service).
    allow_listed: bool


@dataclass(frozen=True)
class AddressGuard:
    allowed: tuple[AllowEntry, ...] = ()

    def refusal(self, address: IPAddress) -> str | None:
        """Why `address` may not be sent to, or None when it may (the allow-list aside)."""
        if isinstance(address, ipaddress.IPv6Address):
            inner = _embedded_ipv4(address)
            if inner is not None:
                reason = self.refusal(inner)
                if reason is not None:
                    return f"{address} carries {inner}: {reason}"
        if (
            not address.is_global
            or address.is_multicast
            or address.is_reserved
            or address.is_unspecified
            or any(address in network for network in _EXTRA_REFUSED)
        ):
            return f"{address} is not a public address"
        return None

    def allow_listed(self, address: IPAddress, port: int | None) -> bool:
        return any(entry.admits(address, port) for entry in self.allowed)

    def check_url(self, url: str) -> SplitResult:
        """Refuse what is wrong with the URL itself: scheme, credentials, a special IP literal."""
        try:
            parts = urlsplit(url)
            hostname = parts.hostname
        except ValueError as exc:
            raise AddressRefused("The URL is not valid.") from exc
        if parts.scheme not in ("http", "https"):
            raise AddressRefused("Only http and https URLs are allowed.")
        if not hostname:
            raise AddressRefused("The URL has no host.")
        try:
            hostname.encode("idna")
        except UnicodeError as exc:
            raise AddressRefused("The URL's host name is not valid.") from exc
        if parts.username is not None or parts.password is not None:
            raise AddressRefused("Credentials in the URL are not allowed; verify our signature.")
        try:
            parts.port  # noqa: B018 - raises on a port out of range
        except ValueError as exc:
            raise AddressRefused("The URL's port is not valid.") from exc
        literal = _ip_literal(hostname)
        if literal is not None:
            _, port = host_and_port(parts)
            reason = self.refusal(literal)
            if reason is not None and not self.allow_listed(literal, port):
                raise AddressRefused(f"Refused address: {reason}.")
        return parts

    def url_refusal(self, url: str) -> str | None:
        """Why a webhook URL may not be saved, or None (`domain.webhooks.endpoints.UrlCheck`)."""
        try:
            self.check_url(url)
        except AddressRefused as exc:
            return str(exc)
        return None

    def resolve(self, url: str, resolver: Resolver | None = None) -> tuple[SplitResult, str]:
        """The URL's parts and one address it resolves to that may be sent to."""
        parts = self.check_url(url)
        host, port = host_and_port(parts)
        addresses = (resolver or system_resolver)(host, port)
        return parts, self.pick_address(host, port, addresses).address

    def pick_address(self, host: str, port: int, addresses: Sequence[str]) -> PickedAddress:
        """Every address the name resolves to must pass, so a name that also resolves to a
        private address cannot slip it in; the first one is used. The refusal does not say
        what the name resolved to: that would map the operator's network for a partner."""
        if not addresses:
            raise AddressRefused(f"{host} does not resolve.")
        allow_listed = False
        for text in addresses:
            address = ipaddress.ip_address(text)
            if self.refusal(address) is None:
                continue
            if not self.allow_listed(address, port):
                raise AddressRefused(f"Refused address for {host}: the address is not allowed.")
            allow_listed = True
        return PickedAddress(addresses[0], allow_listed)


def host_and_port(parts: SplitResult) -> tuple[str, int]:
    return parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)


def _ip_literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def system_resolver(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise AddressRefused(f"{host} does not resolve: {exc.strerror}.") from exc
    except UnicodeError as exc:
        raise AddressRefused(f"{host} is not a valid host name.") from exc
    seen: dict[str, None] = {}
    for info in infos:
        # A scoped IPv6 address ("fe80::1%eth0") is link-local anyway; drop the zone.
        seen.setdefault(str(info[4][0]).split("%")[0], None)
    return list(seen)
