"""Naming a URL, and an HTTP failure, without its secret.

The path and query of the URLs spasmwatch talks to are secrets: an ntfy topic (whoever knows it
reads the alarms and can send false ones), a webhook's token, a healthchecks.io UUID; a user name
and password may sit in front of the host. Logs, the status (the page, ``spasmwatch status``,
/api/status, MQTT's retained status that anyone on the broker reads) and the store name the host
only: ``url_host`` (the heartbeat's) and ``url_origin`` (the channels'), and an HTTP client's
failure in ``http_failure``'s words, never its text (some carry the whole URL).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, unquote, urlsplit

# A reply's echo of a secret is cut only from this length on (characters): a shorter path
# segment or query value ("v1", "x") guards nothing, and cutting it would garble the reply.
MIN_SECRET_CHARS = 4
REDACTED = "[…]"
_URL_RE = re.compile(r"\b[A-Za-z][A-Za-z0-9+.-]*://[^\s\"'<>]+")
_URL_TAIL = ".,:;!?)]}"  # punctuation after a URL in a sentence, not part of it


def host_port(host: str, port: int) -> str:
    """``host:port``, an IPv6 host in brackets (``[::1]:8765``): ``::1:8765`` reads as an address."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def url_host(url: str) -> str:
    """``host[:port]`` of ``url``: no user name or password, no path, no query."""
    u = urlsplit(url)
    host = u.hostname or "?"
    host = f"[{host}]" if ":" in host else host
    try:
        return f"{host}:{u.port}" if u.port is not None else host
    except ValueError:  # a port that is no number (the config refuses it)
        return host


def url_origin(url: str) -> str:
    """``scheme://host[:port]`` of ``url`` (``url_host`` with its scheme: http and https differ)."""
    return f"{urlsplit(url).scheme or '?'}://{url_host(url)}"


def scrub_urls(text: str) -> str:
    """Every URL in ``text`` said as its origin (``url_origin``): for a text worded elsewhere or
    earlier (an error an older spasmwatch kept in the store), whose URLs are not known apart."""

    def origin(m: re.Match[str]) -> str:
        url = m.group()
        tail = len(url) - len(url.rstrip(_URL_TAIL))  # "from https://h/topic: 403" keeps its ':'
        return url_origin(url[: len(url) - tail]) + url[len(url) - tail :]

    return _URL_RE.sub(origin, text)


def url_secrets(url: str) -> list[str]:
    """What of ``url`` must not be repeated: its user name and password, path, each path segment,
    query and each query value, as written and decoded, and the Basic authentication made of the
    user name and password; those shorter than MIN_SECRET_CHARS left out."""
    u = urlsplit(url)
    parts = [u.username or "", u.password or "", u.path.strip("/"), u.query, u.fragment, *u.path.split("/")]
    parts += [v for _, v in parse_qsl(u.query, keep_blank_values=True)]
    if u.username is not None:  # sent as Basic authentication: a reply may echo the header
        parts.append(base64.b64encode(f"{unquote(u.username)}:{unquote(u.password or '')}".encode()).decode())
    return sorted({p for s in parts for p in (s, unquote(s)) if len(p) >= MIN_SECRET_CHARS}, key=len, reverse=True)


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` (a receiver's reply, which may echo the request) with each of ``secrets`` cut out,
    longest first (a secret holding another is cut whole)."""
    for s in sorted(secrets, key=len, reverse=True):
        if s:
            text = text.replace(s, REDACTED)
    return text


def http_failure(e: BaseException) -> str:
    """An HTTP request's failure (aiohttp's or the OS's) in words that hold no URL: the kind, and
    the OS's reason for a connection that failed (``ClientConnectorError`` and ``TooManyRedirects``,
    ``InvalidURL`` and ``ClientResponseError`` carry the URL in their text, so no text is used)."""
    import aiohttp  # here: the config imports this module, and most commands never talk HTTP
    if isinstance(e, aiohttp.ClientConnectorError):
        return f"cannot connect: {e.os_error.strerror or e.os_error}"  # (its text: the host and port only)
    reason = e.strerror if isinstance(e, OSError) and e.strerror else None
    return type(e).__name__ + (f": {reason}" if reason else "")
