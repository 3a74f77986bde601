"""Getting a webhook to its receiver: the host allowlist and one bounded HTTP POST to a checked address."""

from __future__ import annotations

import concurrent.futures
import http.client
import ipaddress
import re
import socket
import ssl
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

# Loopback and private networks: where webhooks may always go (containers on one network work).
DEFAULT_NETWORKS = ("127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")
ALLOWLIST_HINT = "loopback and private networks by default; see --webhook-allow"
# `--webhook-allow none` drops the defaults: only the entries given besides it are allowed.
NONE = "none"
# How long a hostname lookup for the allowlist may take (real seconds).
RESOLVE_TIMEOUT = 2.0
# "This host" (RFC 1122 3.2.1.3): Linux connects a target in it to the local machine, as it does `::`.
THIS_HOST = ipaddress.ip_network("0.0.0.0/8")
# How much of a receiver's answer is read (and thrown away).
MAX_ANSWER_BYTES = 64 * 1024
# Characters left as they are when a URL's path and query are percent-encoded for the request line.
URL_SAFE = "/?#[]@!$&'()*+,;=:%~"
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
# Sent with every webhook POST (`serve`'s deliveries, the recorder's passed-on payloads). Every
# fakeapollo refuses a request that carries it on its control API, and the
# recorder never forwards one: a webhook_url aimed at any fakeapollo (a sibling process on the same
# store, a load balancer in front of it, the recorder) cannot reset, reconfigure or spend.
DELIVERY_MARKER = "X-Fakeapollo-Webhook-Delivery"


class Refused(ValueError):
    """A webhook URL deliveries may not go to; the message says why."""


@dataclass(frozen=True)
class Target:
    """Where one delivery goes: the name (Host header, TLS name) and the checked addresses to connect to."""

    scheme: str
    host: str
    port: int
    addresses: tuple[str, ...]
    request_target: str


def _address(text: str) -> Address:
    """An IP address, IPv4-mapped IPv6 addresses as their IPv4 address, zone ids dropped."""
    address = ipaddress.ip_address(text.split("%")[0])
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def is_local(address: Address) -> bool:
    """Whether `address` belongs to this machine: only a local address can be bound."""
    if address.is_loopback:
        return True
    family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.bind((str(address), 0))
    except OSError:
        return False
    return True


def is_this_host(address: Address) -> bool:
    """Whether connecting to `address` reaches this machine whatever it listens on: `::`, 0.0.0.0/8."""
    return address.is_unspecified or (address.version == 4 and address in THIS_HOST)


class Allowlist:
    """The hosts webhooks may be sent to: loopback and private networks plus configured entries.

    Every host is resolved once per delivery; all its addresses must be allowed, and the POST
    connects to those very addresses (never to a second lookup's answer). The emulator's own
    listening addresses are refused whatever the entries say.
    """

    def __init__(self, entries: Iterable[str] = (), resolve_timeout: float = RESOLVE_TIMEOUT) -> None:
        self.any = False
        parts = [part.strip().lower().rstrip(".") for raw in entries for part in str(raw).split(",")]
        defaults = () if NONE in parts else DEFAULT_NETWORKS
        self.networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = [
            ipaddress.ip_network(n) for n in defaults
        ]
        self.hostnames: set[str] = set()
        self.suffixes: list[str] = []
        self.own: set[tuple[str, int]] = set()
        self.resolve_timeout = resolve_timeout
        self._resolver: concurrent.futures.ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        for entry in parts:
            self._add(entry)

    def _add(self, entry: str) -> None:
        if not entry or entry == NONE:
            return
        if entry == "*":
            self.any = True
            return
        if entry.startswith("*."):
            self.suffixes.append(entry[1:])
            return
        try:
            self.networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
            return
        except ValueError:
            if "/" in entry or not re.fullmatch(r"[a-z0-9_.-]+", entry):
                problem = f"--webhook-allow: {entry!r} is neither a CIDR, a hostname, '*' nor 'none'"
                raise ValueError(problem) from None
        self.hostnames.add(entry)

    def refuse_own(self, host: str, port: int) -> None:
        """Never deliver to the emulator itself at `host:port` (a wildcard host: every local address)."""
        self.own.add((str(_address(host)), port))

    def _is_own(self, address: Address, port: int) -> bool:
        for host, own_port in self.own:
            if own_port != port:
                continue
            listening = ipaddress.ip_address(host)
            if listening == address or is_this_host(address):
                return True
            if listening.is_unspecified and is_local(address):
                return True
        return False

    def _ip_allowed(self, address: Address) -> bool:
        return any(address.version == n.version and address in n for n in self.networks)

    def _resolve(self, host: str, port: int) -> list[str] | None:
        """The addresses `host` resolves to; None when it cannot be resolved in time."""
        with self._lock:
            if self._resolver is None:
                self._resolver = concurrent.futures.ThreadPoolExecutor(2, "fakeapollo-resolve")
            resolver = self._resolver
        future = resolver.submit(socket.getaddrinfo, host, port, 0, socket.SOCK_STREAM)
        try:
            infos = future.result(timeout=self.resolve_timeout)
        except (concurrent.futures.TimeoutError, OSError, UnicodeError, ValueError):
            return None
        return list(dict.fromkeys(str(info[4][0]) for info in infos))

    def target(self, url: str, *, resolve_named: bool = True) -> Target:
        """Where a delivery to `url` connects: resolved once, every address checked; Refused otherwise.

        A host allowed by name is resolved only to find where to connect (`resolve_named=False`
        skips that, for a policy check alone: its Target then has no addresses).
        """
        try:
            parts = urlsplit(url)
            host = (parts.hostname or "").lower().rstrip(".")
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            raise Refused(f"webhook_url {url!r} is not a valid URL") from None
        if parts.scheme not in ("http", "https"):
            raise Refused(f"webhook_url {url!r} is not an http(s) URL")
        if not host:
            raise Refused(f"webhook_url {url!r} has no host")
        try:
            literal: Address | None = _address(host)
        except ValueError:
            literal = None
        named = self.any or host in self.hostnames or any(host.endswith(s) for s in self.suffixes)
        if literal is not None:
            addresses = [str(literal)]
        elif named and not resolve_named:
            addresses = []
        else:
            try:
                host.encode("idna")
            except UnicodeError:
                raise Refused(f"webhook_url host {host!r} is not a valid hostname") from None
            resolved = self._resolve(host, port)
            if not resolved:
                raise Refused(
                    f"webhook_url host '{host}' could not be resolved to check it against the allowlist"
                    f" ({ALLOWLIST_HINT})"
                )
            addresses = resolved
        for text in addresses:
            address = _address(text)
            if self._is_own(address, port):
                raise Refused(f"webhook_url '{host}:{port}' is this emulator itself: never delivered")
            if not named and not self._ip_allowed(address):
                raise Refused(f"webhook_url host '{host}' is not on the allowlist ({ALLOWLIST_HINT})")
        path = quote(parts.path or "/", safe=URL_SAFE)
        query = quote(parts.query, safe=URL_SAFE)
        return Target(parts.scheme, host, port, tuple(addresses), path + (f"?{query}" if query else ""))

    def refusal(self, url: str) -> str | None:
        """Why a webhook may not go to `url`, or None when it may (hosts allowed by name: unresolved)."""
        try:
            self.target(url, resolve_named=False)
        except Refused as exc:
            return str(exc)
        return None

    def close(self) -> None:
        """Stop the resolver threads."""
        with self._lock:
            if self._resolver is not None:
                self._resolver.shutdown(wait=False, cancel_futures=True)
                self._resolver = None


@dataclass(frozen=True)
class Answer:
    """What one POST got: the receiver's status, or why there was none."""

    status: int | None
    error: str | None

    @property
    def ok(self) -> bool:
        """Whether the receiver answered 2xx."""
        return self.status is not None and 200 <= self.status < 300

    @property
    def reason(self) -> str:
        """The failure reason as Apollo reports it (docs/apollo-facts.md 4.5): `Webhook error: 404`."""
        return f"Webhook error: {self.status if self.status is not None else self.error}"


class _Deadline:
    """When one delivery attempt must end: past it its socket is shut down and the attempt timed out."""

    def __init__(self, seconds: float) -> None:
        self.ends = time.monotonic() + seconds
        self.expired = False
        self._done = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def left(self) -> float:
        """Real seconds left (a connect is given no more)."""
        return max(self.ends - time.monotonic(), 0.001)

    def watch(self, sock: socket.socket) -> None:
        """Shut `sock` down when the deadline passes (at once if it has)."""
        with self._lock:
            self._sockets.append(sock)
            if self.expired:
                _shut(sock)

    def _expire(self) -> None:
        with self._lock:
            if self._done:
                return
            self.expired = True
            for sock in self._sockets:
                _shut(sock)

    def finish(self) -> bool:
        """Stop watching; whether the deadline passed first."""
        self._timer.cancel()
        with self._lock:
            self._done = True
            return self.expired


def _shut(sock: socket.socket) -> None:
    """End `sock`'s reads and writes now, from any thread (a blocked read returns)."""
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


# An attempt that did not end within the webhook timeout, however far it got.
TIMED_OUT = Answer(None, "timeout")


def _connection(target: Target, address: str, deadline: _Deadline) -> http.client.HTTPConnection:
    """A connection named after the target's host (Host header, TLS name) that connects to `address`."""
    host = target.host.encode("idna").decode("ascii") if not target.host.isascii() else target.host
    connection: http.client.HTTPConnection
    if target.scheme == "https":
        connection = http.client.HTTPSConnection(host, target.port)
    else:
        connection = http.client.HTTPConnection(host, target.port)

    def connect_to_checked(
        where: tuple[str, int], timeout: float | None = None, source: tuple[str, int] | None = None
    ) -> socket.socket:
        sock = socket.create_connection((address, where[1]), deadline.left(), source)
        deadline.watch(sock)
        return sock

    connection._create_connection = connect_to_checked  # type: ignore[attr-defined]
    return connection


def post_json(
    url: str, body: bytes, headers: Mapping[str, str], timeout: float, target: Target | None = None
) -> Answer:
    """POST `body`, marked as a delivery, all within `timeout` seconds (connect, send, answer); never raises.

    With a `target` (from `Allowlist.target`), it connects only to the target's checked addresses;
    without one, to whatever `url`'s host resolves to now.
    """
    headers = {**headers, DELIVERY_MARKER: "1"}
    if target is None:
        try:
            parts = urlsplit(url)
            port = parts.port or (443 if parts.scheme == "https" else 80)
            host = parts.hostname or ""
        except ValueError:
            return Answer(None, "invalid url")
        path, query = quote(parts.path or "/", safe=URL_SAFE), quote(parts.query, safe=URL_SAFE)
        target = Target(parts.scheme, host, port, (host,), path + (f"?{query}" if query else ""))
    answer = Answer(None, "no address")
    deadline = _Deadline(timeout)
    try:
        for address in target.addresses:
            answer = _post_once(target, address, body, headers, deadline)
            if answer.error not in ("connection refused", "no route"):
                break
    finally:
        if deadline.finish():
            answer = TIMED_OUT
    return answer


def _post_once(
    target: Target, address: str, body: bytes, headers: Mapping[str, str], deadline: _Deadline
) -> Answer:
    """One POST to one checked address, its socket shut down when `deadline` passes."""
    try:
        connection = _connection(target, address, deadline)
    except (UnicodeError, ValueError):
        return Answer(None, "invalid host")
    try:
        connection.request("POST", target.request_target, body=body, headers=dict(headers))
        response = connection.getresponse()
        response.read(MAX_ANSWER_BYTES)
        return Answer(response.status, None)
    except ConnectionRefusedError:
        return Answer(None, "connection refused")
    except TimeoutError:
        return TIMED_OUT
    except ConnectionResetError:
        return Answer(None, "connection reset")
    except ssl.SSLError:
        return Answer(None, "ssl error")
    except (http.client.HTTPException, OSError, UnicodeError, ValueError) as exc:
        return Answer(None, f"connection error ({type(exc).__name__})")
    finally:
        connection.close()
