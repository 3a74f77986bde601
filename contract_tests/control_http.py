"""The contract runner's HTTP to the control API: one keep-alive connection of the standard library's.

A contract case makes two control calls while the run waits on them (its key and scenarios, then
its journal) and one in the background, from the process that also serves the client and draws
the next case. Measured on loopback against the contract's emulator (2026-12-07, a journal read):
httpx spends 0.65 ms of the calling thread's CPU a call and the call takes 1.7 ms, `http.client`
0.22 ms and 1.1 ms. A connection the server closed between calls (its keep-alive timeout) is
opened again and the call sent once more; any other failure is `ControlUnreachable`.
"""

from __future__ import annotations

import argparse
import http.client
from urllib.parse import SplitResult, quote, urlencode, urlsplit

#: Seconds a control call may take.
TIMEOUT = 30.0


class ControlUnreachable(RuntimeError):
    """The control API could not be reached, or did not answer in HTTP."""


def split_base_url(url: str) -> SplitResult:
    """The parts of an http(s)://host[:port][/path] URL; ValueError (one line) for anything else."""
    try:
        parts = urlsplit(url)
        port = parts.port  # ValueError for a port that is not a number from 0 to 65535
    except ValueError as exc:  # also an unclosed IPv6 bracket
        raise ValueError(f"not an http(s)://host[:port] URL ({exc}): {url!r}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s)://host[:port] URL: {url!r}")
    if port == 0:
        raise ValueError(f"not an http(s)://host[:port] URL (port 0 is no server's): {url!r}")
    return parts


def base_url_flag(raw: str) -> str:
    """An argparse type for a --base-url: split_base_url's refusal as the flag's error."""
    try:
        split_base_url(raw)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return raw


class ControlConnection:
    """Requests to one base URL over one reused connection (not thread-safe: callers hold a lock)."""

    def __init__(self, base_url: str, headers: dict[str, str], timeout: float = TIMEOUT) -> None:
        try:
            parts = split_base_url(base_url)
        except ValueError as exc:
            raise ControlUnreachable(str(exc)) from None
        self._secure = parts.scheme == "https"
        self._host = parts.hostname or ""
        self._port = parts.port
        self._prefix = parts.path.rstrip("/")
        self._headers = headers
        self._timeout = timeout
        self._connection: http.client.HTTPConnection | None = None

    def request(
        self, method: str, path: str, body: bytes | None = None, params: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        """Send one request; its status and body."""
        target = quote(self._prefix + path, safe="/:@!$&'()*+,;=-._~") + (
            "?" + urlencode(params) if params else ""
        )
        headers = dict(self._headers)
        if body is not None:
            headers["Content-Type"] = "application/json"
        for attempt in range(2):
            reused = self._connection is not None
            connection = self._connection or self._connect()
            try:
                connection.request(method, target, body=body, headers=headers)
                response = connection.getresponse()
                data = response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as exc:
                self.close()
                if reused and attempt == 0:  # the server closed the idle connection: once more
                    continue
                raise ControlUnreachable(f"{type(exc).__name__}: {exc}") from exc
            except (OSError, http.client.HTTPException) as exc:
                self.close()
                raise ControlUnreachable(f"{type(exc).__name__}: {exc}") from exc
            if response.will_close:
                self.close()
            return response.status, data
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    def _connect(self) -> http.client.HTTPConnection:
        kind = http.client.HTTPSConnection if self._secure else http.client.HTTPConnection
        self._connection = kind(self._host, self._port, timeout=self._timeout)
        return self._connection

    def close(self) -> None:
        """Close the connection (the next request opens another)."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None


__all__ = ["ControlConnection", "ControlUnreachable"]
