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


def parse_networks(values: Iterable[str]) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(value.strip(), strict=False) for value in values)


@dataclass(frozen=True)
class AddressGuard:
    allowed: tuple[IPNetwork, ...] = ()

    def refusal(self, address: IPAddress) -> str | None:
        """Why `address` may not be sent to, or None when it may."""
        if any(address in network for network in self.allowed):
            return None
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
            reason = self.refusal(literal)
            if reason is not None:
                raise AddressRefused(f"Refused address: {reason}.")
        return parts

    def resolve(self, url: str, resolver: Resolver | None = None) -> tuple[SplitResult, str]:
        """The URL's parts and one address it resolves to that may be sent to."""
        parts = self.check_url(url)
        host, port = host_and_port(parts)
        return parts, self.pick_address(host, (resolver or system_resolver)(host, port))

    def pick_address(self, host: str, addresses: Sequence[str]) -> str:
        """Every address the name resolves to must pass, so a name that also resolves to a
        private address cannot slip it in; the first one is used."""
        if not addresses:
            raise AddressRefused(f"{host} does not resolve.")
        for text in addresses:
            reason = self.refusal(ipaddress.ip_address(text))
            if reason is not None:
                raise AddressRefused(f"Refused address for {host}: {reason}.")
        return addresses[0]


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
