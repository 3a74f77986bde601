"""Refusing what a browser sends on another site's behalf: cross-site requests and DNS rebinding.

Plain Python over a request's method and headers, shared by the control API (mock_server/web/admin.py)
and the recorder (mock_server/recording/proxy.py). A page on any origin can make the user's browser
send simple requests to loopback (`<img>`, `<form>`, `fetch` in `no-cors` mode) and, after a DNS
rebinding, read the answers under its own host name. So:

- every request must name this server in `Host`: an IP address, `localhost`, or a configured name
  (a rebinding page's requests carry the attacker's name);
- a request that changes something must not come from another origin: `Origin`, when sent, names
  the same host and port as `Host`; `Sec-Fetch-Site`, when sent, is `same-origin` or `none`;
- and its body, if any, is JSON: a content type no page can send without the browser asking first
  (a CORS preflight, which nothing here answers).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from mock_server.domain.errors import ServerRefusal

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Sec-Fetch-Site values of requests no other site started.
OWN_FETCH_SITES = frozenset({"same-origin", "none"})


class CrossSiteRefused(ServerRefusal):
    """403: the request names another host, or another site started it."""

    status = 403

    def __init__(self, message: str) -> None:
        super().__init__({"error": message, "error_code": "CROSS_SITE_REQUEST_REFUSED"})


class JsonRequired(ServerRefusal):
    """415: a request that changes something sent a body (or a content type) other than JSON."""

    status = 415

    def __init__(self, content_type: str) -> None:
        super().__init__(
            {
                "error": f"Unsupported content type '{content_type[:80]}': a request that changes state "
                "sends application/json (or no body and no Content-Type)",
                "error_code": "JSON_REQUIRED",
            }
        )


def is_json_type(content_type: str) -> bool:
    """Whether a Content-Type is JSON: `application/json` or `*/*+json`, parameters aside."""
    media = content_type.partition(";")[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


def _hostname(authority: str) -> tuple[str, int | None] | None:
    """The host name (lower case, no trailing dot) and port of `host[:port]`, or None when malformed."""
    try:
        parts = urlsplit("//" + authority)
        name = (parts.hostname or "").rstrip(".")
        port = parts.port
    except ValueError:
        return None
    if not name or parts.username is not None or parts.path or parts.query or parts.fragment:
        return None
    return name, port


@dataclass(frozen=True)
class SitePolicy:
    """Which `Host` names are this server's, and the checks of one request against them."""

    # Names besides IP addresses and localhost: exact (`fakeapollo`), `*.suffix`, or `*` for any.
    allowed_hosts: tuple[str, ...] = ()

    @classmethod
    def for_server(cls, bind_host: str, allowed: Iterable[str] = ()) -> SitePolicy:
        """The policy of a server bound to `bind_host` (a name it binds to counts as its own)."""
        names = [part.strip().lower().rstrip(".") for raw in allowed for part in str(raw).split(",")]
        bound = bind_host.strip("[]").lower()
        return cls(tuple(n for n in [*names, bound] if n))

    def host_allowed(self, name: str) -> bool:
        """Whether `Host: name` addresses this server (a rebinding page's name does not)."""
        name = name.lower().rstrip(".")
        try:
            ipaddress.ip_address(name.strip("[]").split("%")[0])
            return True
        except ValueError:
            pass
        if name == "localhost" or name.endswith(".localhost"):
            return True
        for entry in self.allowed_hosts:
            if entry == "*" or name == entry or (entry.startswith("*.") and name.endswith(entry[1:])):
                return True
        return False

    def check(
        self,
        method: str,
        headers: Mapping[str, str],
        *,
        has_body: bool,
        changes_state: bool | None = None,
        who: str = "fakeapollo",
    ) -> None:
        """Raise CrossSiteRefused or JsonRequired for a request this server must not act on.

        `headers` has lower-case names. `changes_state` defaults to "the method is not GET, HEAD or
        OPTIONS"; the recorder passes True for every call it forwards (each can spend credits).
        """
        host = headers.get("host", "")
        parsed = _hostname(host)
        if parsed is None or not self.host_allowed(parsed[0]):
            raise CrossSiteRefused(
                f"{who}: Host {host[:100]!r} is not this server: requests must address it by IP address,"
                " localhost, or a name in --allowed-hosts (a defence against DNS rebinding)"
            )
        if changes_state is None:
            changes_state = method.upper() not in SAFE_METHODS
        if not changes_state:
            return
        fetch_site = headers.get("sec-fetch-site", "").strip().lower()
        if fetch_site and fetch_site not in OWN_FETCH_SITES:
            raise CrossSiteRefused(
                f"{who}: refused a request another site started (Sec-Fetch-Site: {fetch_site[:40]})"
            )
        origin = headers.get("origin")
        if origin is not None and not _same_origin(origin, parsed):
            raise CrossSiteRefused(f"{who}: refused a request from another origin ({origin[:100]!r})")
        content_type = headers.get("content-type")
        if (has_body or content_type is not None) and not is_json_type(content_type or ""):
            raise JsonRequired(content_type or "")


def _same_origin(origin: str, host: tuple[str, int | None]) -> bool:
    """Whether `Origin` names the host and port the request was sent to (`null` never does)."""
    try:
        parts = urlsplit(origin.strip())
        if parts.scheme not in ("http", "https") or parts.path or parts.query:
            return False
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return False
    name, host_port = host
    return (parts.hostname or "").rstrip(".") == name and port == (host_port or port)
