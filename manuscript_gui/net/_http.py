"""Translate httpx's answers and failures into the client's error hierarchy."""

from __future__ import annotations

import json
import socket
import ssl
from collections.abc import Iterator

import httpx

from manuscript_gui.net.errors import (
    BadRequest,
    CertificateError,
    ConnectError,
    Forbidden,
    Gone,
    HTTPError,
    IdentityNotAllowed,
    IncompleteBody,
    InvalidCredentials,
    NetworkError,
    NetworkTimeout,
    NotFound,
    ProtocolError,
    RateLimited,
    ServerError,
    TLSError,
    Unauthorized,
    VersionNotFound,
    parse_retry_after,
)
from manuscript_gui.net.transport import MalformedResponse

#: Error bodies beyond this are not read: a proxy may answer with megabytes.
ERROR_BODY_LIMIT = 64 * 1024


def error_from_response(
    status: int, headers: httpx.Headers, body: bytes, *, at_login: bool = False
) -> HTTPError:
    """Build the :class:`HTTPError` subclass for an error answer.

    The subclass follows the status; the contract's ``code`` refines it where
    the contract gives a code its own meaning (``identity_not_allowed``,
    ``version_not_found``). A body that is not the contract's error shape is
    not a ProtocolError here: a gateway's 502 page is still a 502.
    """
    code, message = _error_body(body)
    if code is None:
        code = f"http_{status}"
    if message is None:
        message = _reason(status)
    retry_after = parse_retry_after(headers.get("retry-after"))
    if status == 400:
        return BadRequest(status, code, message)
    if status == 401:
        cls401 = InvalidCredentials if at_login else Unauthorized
        return cls401(status, code, message)
    if status == 403:
        cls403 = IdentityNotAllowed if code == "identity_not_allowed" else Forbidden
        return cls403(status, code, message)
    if status == 404:
        cls404 = VersionNotFound if code == "version_not_found" else NotFound
        return cls404(status, code, message)
    if status == 410:
        return Gone(status, code, message)
    if status == 429:
        return RateLimited(status, code, message, retry_after=retry_after)
    if status >= 500:
        return ServerError(status, code, message, retry_after=retry_after)
    return HTTPError(status, code, message, retry_after=retry_after)


def _error_body(body: bytes) -> tuple[str | None, str | None]:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None, None
    if not isinstance(data, dict):
        return None, None
    error = data.get("error")
    if not isinstance(error, dict):
        return None, None
    code = error.get("code")
    message = error.get("message")
    return (
        code if isinstance(code, str) and code else None,
        message if isinstance(message, str) and message else None,
    )


def _reason(status: int) -> str:
    return httpx.codes.get_reason_phrase(status) or "HTTP error"


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception and its causes, outermost first (cycle-safe)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _os_reason(exc: BaseException) -> str | None:
    if isinstance(exc, socket.gaierror):
        return f"host name could not be resolved ({exc.strerror or exc})"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ConnectionResetError):
        return "connection reset by the server"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return None


def network_error(exc: httpx.TransportError, url: httpx.URL) -> NetworkError | ProtocolError:
    """Map an httpx transport failure to a :class:`NetworkError` with a readable cause.

    TLS failures are found by walking the exception chain down to the ``ssl``
    error, so the message says *why* ("unable to get local issuer
    certificate") instead of httpx's generic text.

    Framing the lean transport's HTTP parser (h11) rejects is
    :class:`~manuscript_gui.net.transport.MalformedResponse`:
    ``ProtocolError(code="malformed_response")``, permanent (the same server
    frames the next answer the same way). A connection that ends early stays
    a transient :class:`NetworkError`. httpcore (``MANUSCRIPT_LEAN_HTTP=0``)
    does not tell the two apart: its framing errors stay transient. A request
    refused before sending (``httpx.LocalProtocolError``: an illegal header, a
    URL of another origin) is a permanent ``ProtocolError("bad_field")``.
    """
    where = f"{url.host}:{url.port}" if url.port else str(url.host)
    for inner in _chain(exc):
        if isinstance(inner, ssl.SSLCertVerificationError):
            detail = inner.verify_message or inner.reason or str(inner)
            return CertificateError(
                f"the TLS certificate of {where} could not be verified: {detail} "
                "(certificate verify failed; is the server's CA in the CA bundle?)"
            )
        if isinstance(inner, ssl.SSLError):
            detail = inner.reason or str(inner)
            if detail == "WRONG_VERSION_NUMBER":
                detail += " (does the server speak plain http:// on that port?)"
            return TLSError(f"TLS handshake with {where} failed: {detail}")
    if isinstance(exc, MalformedResponse):
        return ProtocolError(
            f"the answer from {where} is not valid HTTP/1.1: {exc}", code="malformed_response"
        )
    if isinstance(exc, httpx.LocalProtocolError):
        return ProtocolError(f"request to {where} could not be sent: {exc}", code="bad_field")
    if isinstance(exc, httpx.TimeoutException):
        if isinstance(exc, httpx.ConnectTimeout):
            return ConnectError(f"connecting to {where} timed out")
        phase = {
            httpx.ReadTimeout: "waiting for data",
            httpx.WriteTimeout: "sending data",
            httpx.PoolTimeout: "waiting for a free connection",
        }.get(type(exc), "waiting")
        return NetworkTimeout(f"timed out {phase} from {where}")
    reason = next((r for r in map(_os_reason, _chain(exc)) if r), None) or str(exc) or "failed"
    if isinstance(exc, httpx.ProxyError):
        return ConnectError(f"the proxy for {where} failed: {reason}")
    if isinstance(exc, httpx.ConnectError):
        return ConnectError(f"could not connect to {where}: {reason}")
    # Read/write errors and the server closing the connection before an answer
    # (a keep-alive race) are all "the connection broke": transient.
    return NetworkError(f"connection to {where} failed: {reason}")


def body_cut(
    exc: httpx.TransportError | None, url: httpx.URL, received: int, expected: int | None
) -> NetworkError | ProtocolError:
    """The error for a body that stopped early (``exc`` is ``None`` for a clean EOF).

    Timeouts, TLS trouble and malformed framing (``ProtocolError``
    ``malformed_response``, see :func:`network_error`) keep their own class;
    everything else that ends a body early is an :class:`IncompleteBody`, so
    the caller knows the partial is worth resuming.
    """
    if exc is not None:
        mapped = network_error(exc, url)
        if isinstance(mapped, NetworkTimeout | TLSError | ProtocolError):
            return mapped
        cause = f" ({mapped.message})"
    else:
        cause = ""
    total = "an unknown length" if expected is None else f"{expected} bytes"
    return IncompleteBody(
        f"the answer from {url.host} ended after {received} of {total}{cause}",
        received=received,
        expected=expected,
    )


def decode_json(response: httpx.Response, what: str) -> object:
    """Decode a JSON answer, raising ProtocolError(``bad_json``) with a useful hint."""
    try:
        return json.loads(response.content)
    except (ValueError, UnicodeDecodeError) as exc:
        ctype = response.headers.get("content-type", "")
        hint = " (an HTML page: a proxy or login portal?)" if "html" in ctype.lower() else ""
        raise ProtocolError(
            f"{what}: the answer is not valid JSON{hint}: {exc}", code="bad_json"
        ) from None
