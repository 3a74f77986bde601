"""Getting a webhook to its receiver: the host allowlist and one bounded HTTP POST."""

from __future__ import annotations

import concurrent.futures
import http.client
import ipaddress
import re
import socket
import ssl
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

# Loopback and private networks: where webhooks may always go (containers on one network work).
DEFAULT_NETWORKS = ("127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")
ALLOWLIST_HINT = "loopback and private networks by default; see --webhook-allow"
# How long a hostname lookup for the allowlist may take (real seconds).
RESOLVE_TIMEOUT = 2.0
# How much of a receiver's answer is read (and thrown away).
MAX_ANSWER_BYTES = 64 * 1024


class Allowlist:
    """The hosts webhooks may be sent to: loopback and private networks plus configured entries."""

    def __init__(self, entries: Iterable[str] = (), resolve_timeout: float = RESOLVE_TIMEOUT) -> None:
        self.any = False
        self.networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = [
            ipaddress.ip_network(n) for n in DEFAULT_NETWORKS
        ]
        self.hostnames: set[str] = {"localhost"}
        self.suffixes: list[str] = [".localhost"]
        self.resolve_timeout = resolve_timeout
        self._resolver: concurrent.futures.ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        for raw in entries:
            for entry in (part.strip().lower().rstrip(".") for part in str(raw).split(",")):
                self._add(entry)

    def _add(self, entry: str) -> None:
        if not entry:
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
                problem = f"--webhook-allow: {entry!r} is neither a CIDR, a hostname nor '*'"
                raise ValueError(problem) from None
        self.hostnames.add(entry)

    def _ip_allowed(self, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return any(address.version == n.version and address in n for n in self.networks)

    def _resolve(self, host: str) -> list[str] | None:
        """The addresses `host` resolves to; None when it cannot be resolved in time."""
        with self._lock:
            if self._resolver is None:
                self._resolver = concurrent.futures.ThreadPoolExecutor(2, "fakeapollo-resolve")
            resolver = self._resolver
        future = resolver.submit(socket.getaddrinfo, host, None, 0, socket.SOCK_STREAM)
        try:
            infos = future.result(timeout=self.resolve_timeout)
        except (concurrent.futures.TimeoutError, OSError, UnicodeError):
            return None
        return [str(info[4][0]) for info in infos]

    def refusal(self, url: str) -> str | None:
        """Why a webhook may not go to `url`, or None when it may."""
        try:
            parts = urlsplit(url)
            host = (parts.hostname or "").lower().rstrip(".")
            parts.port  # noqa: B018 - raises ValueError for a port out of range
        except ValueError:
            return f"webhook_url {url!r} is not a valid URL"
        if not host:
            return f"webhook_url {url!r} has no host"
        if self.any or host in self.hostnames or any(host.endswith(s) for s in self.suffixes):
            return None
        try:
            if self._ip_allowed(ipaddress.ip_address(host)):
                return None
            return f"webhook_url host '{host}' is not on the allowlist ({ALLOWLIST_HINT})"
        except ValueError:
            pass
        addresses = self._resolve(host)
        if not addresses:
            return f"webhook_url host '{host}' could not be resolved to check it against the allowlist" + (
                f" ({ALLOWLIST_HINT})"
            )
        if all(self._ip_allowed(ipaddress.ip_address(a.split("%")[0])) for a in addresses):
            return None
        return f"webhook_url host '{host}' is not on the allowlist ({ALLOWLIST_HINT})"

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
        """The failure reason as Apollo reports it (FACTS.md 4.5): `Webhook error: 404`."""
        return f"Webhook error: {self.status if self.status is not None else self.error}"


def post_json(url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> Answer:
    """POST `body` to `url` with a timeout on connecting and on every read; never raises."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return Answer(None, "invalid url")
    host = parts.hostname or ""
    connection: http.client.HTTPConnection
    if parts.scheme == "https":
        connection = http.client.HTTPSConnection(host, port, timeout=timeout)
    else:
        connection = http.client.HTTPConnection(host, port, timeout=timeout)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request("POST", target, body=body, headers=dict(headers))
        response = connection.getresponse()
        response.read(MAX_ANSWER_BYTES)
        return Answer(response.status, None)
    except ConnectionRefusedError:
        return Answer(None, "connection refused")
    except TimeoutError:
        return Answer(None, "timeout")
    except ConnectionResetError:
        return Answer(None, "connection reset")
    except ssl.SSLError:
        return Answer(None, "ssl error")
    except (http.client.HTTPException, OSError) as exc:
        return Answer(None, f"connection error ({type(exc).__name__})")
    finally:
        connection.close()
