"""Errors raised by the API client.

Every failure the client reports is an :class:`ApiError`; local file-system
errors (disk full, folder gone) are *not* wrapped and surface as ``OSError``,
because the engine treats them differently (they pause the whole task).

The hierarchy, httpx style::

    ApiError                      base: .transient says "worth retrying"
    ├── HTTPError                 an error status: .status .code .message .retry_after
    │   ├── BadRequest            400
    │   ├── Unauthorized          401 with a session: token missing/expired/revoked
    │   ├── InvalidCredentials    401 at login: wrong user name or password
    │   ├── Forbidden             403: the identity may not see the project
    │   │   └── IdentityNotAllowed    403 identity_not_allowed: the user has no such identity
    │   ├── NotFound              404
    │   │   └── VersionNotFound       404 version_not_found: the pinned version was purged
    │   ├── Gone                  410 file_deleted
    │   ├── RateLimited           429 (transient, honours Retry-After)
    │   └── ServerError           5xx (transient except 501/505, honours Retry-After)
    ├── NetworkError              the exchange failed below HTTP (transient)
    │   ├── ConnectError              could not connect: refused, DNS, connect timeout, proxy
    │   │   └── TLSError              TLS handshake failed (permanent)
    │   │       └── CertificateError      the server's certificate was not trusted
    │   ├── NetworkTimeout            read/write/pool timeout on an open connection
    │   │   └── TooSlow                   a body slower than the minimum speed (low-speed limit)
    │   └── IncompleteBody            the body ended before its announced length
    └── ProtocolError             the server answered, but not as the contract says:
                                  bad JSON, wrong shape, bad Content-Range, an HTML page
                                  where bytes were expected, too many bytes, ... (.code;
                                  transient or not per code)

``Unauthorized`` and ``InvalidCredentials`` are siblings on purpose: the engine
catches ``Unauthorized`` to mean "the session is over, pause and ask for a new
login", which must never swallow a mistyped password on the login dialog.
"""

from __future__ import annotations

import datetime
import email.utils
import time
from typing import Final

__all__ = [
    "ApiError",
    "BadRequest",
    "CertificateError",
    "ConnectError",
    "Forbidden",
    "Gone",
    "HTTPError",
    "IdentityNotAllowed",
    "IncompleteBody",
    "InvalidCredentials",
    "NetworkError",
    "NetworkTimeout",
    "NotFound",
    "ProtocolError",
    "RateLimited",
    "ServerError",
    "TLSError",
    "TooSlow",
    "Unauthorized",
    "VersionNotFound",
    "is_transient",
    "parse_retry_after",
    "retry_after_of",
]


class ApiError(Exception):
    """Base class of every error the API client raises.

    ``transient`` tells the engine whether retrying the same request later
    (with back-off) can reasonably succeed; see :func:`is_transient`.
    """

    transient: bool = False

    @property
    def message(self) -> str:
        """Human-readable text of the error (English, for logs and reports)."""
        return str(self.args[0]) if self.args else type(self).__name__


class HTTPError(ApiError):
    """The server answered with an error status (4xx/5xx).

    ``code`` and ``message`` come from the contract's error body
    ``{"error": {"code", "message"}}`` when the body has that shape; an answer
    from something else (a proxy's HTML 502 page, say) gets the code
    ``http_<status>`` and the reason phrase, rather than a ProtocolError, because
    the status itself is still meaningful.
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status: int = status
        self.code: str = code
        self.server_message: str = message
        #: Seconds the server asked us to wait (``Retry-After``), when it said.
        self.retry_after: float | None = retry_after


class BadRequest(HTTPError):
    """400: the server rejected the request itself (a client bug, not retried)."""


class Unauthorized(HTTPError):
    """401 on an authenticated call: the token is missing, expired or revoked.

    Also raised *without* a request when the client holds no token (after
    logout), so nothing is ever sent on an ended session.
    """


class InvalidCredentials(HTTPError):
    """401 at login: wrong user name or password."""


class Forbidden(HTTPError):
    """403: this identity may not see the project (or access was withdrawn)."""


class IdentityNotAllowed(Forbidden):
    """403 ``identity_not_allowed``: the user holds no such identity."""


class NotFound(HTTPError):
    """404: unknown project, folder, file or version."""


class VersionNotFound(NotFound):
    """404 ``version_not_found``: the pinned version was purged on the server."""


class Gone(HTTPError):
    """410 ``file_deleted``: the file was deleted on the server."""


class RateLimited(HTTPError):
    """429: too many requests (or concurrent downloads) for this token."""

    transient = True


class ServerError(HTTPError):
    """5xx: the server (or a gateway in front of it) failed.

    Transient, except 501 Not Implemented and 505 HTTP Version Not Supported,
    which no amount of waiting changes.
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(status, code, message, retry_after=retry_after)
        self.transient = status not in (501, 505)


class NetworkError(ApiError):
    """The exchange failed below HTTP: connect, read, write, timeout, TLS.

    The message carries a readable cause (``"connection refused"``,
    ``"certificate verify failed: ..."``) rather than httpx's bare class name.
    """

    transient = True


class ConnectError(NetworkError):
    """No connection could be made (refused, unreachable, DNS, proxy, connect timeout)."""


class TLSError(ConnectError):
    """The TLS handshake failed; retrying will not change the server's setup."""

    transient = False


class CertificateError(TLSError):
    """The server's certificate could not be verified (unknown CA, wrong host, expired)."""


class NetworkTimeout(NetworkError):
    """A read, write or connection-pool wait on an open connection timed out."""


class TooSlow(NetworkTimeout):
    """A body arrived slower than the minimum speed for the whole low-speed period.

    curl's ``CURLOPT_LOW_SPEED_LIMIT`` / ``CURLOPT_LOW_SPEED_TIME``: a server
    (or middlebox) that trickles a byte every few seconds never trips a
    per-read timeout, so the attempt is ended instead. Transient: every byte
    that arrived was written, and the next attempt resumes from it with
    ``Range``.
    """

    def __init__(self, message: str, *, rate: float, received: int) -> None:
        super().__init__(message)
        #: The measured speed over the low-speed period, in bytes per second.
        self.rate: float = rate
        #: Body bytes received (and kept) in this attempt before it was ended.
        self.received: int = received


class IncompleteBody(NetworkError):
    """The body ended before the announced length: connection closed mid-body.

    Whatever arrived before the cut was written; the next attempt resumes from it.
    """

    def __init__(self, message: str, *, received: int, expected: int | None) -> None:
        super().__init__(message)
        #: Body bytes received in this response before it ended.
        self.received: int = received
        #: Body bytes the response announced (``None`` if it did not say).
        self.expected: int | None = expected


class ProtocolError(ApiError):
    """The server answered, but the answer breaks the contract.

    ``code`` is a stable identifier the engine can map to a readable reason.
    Whether it is transient follows one question: *can the same request, a
    little later, get a different answer?* Nothing is written for any of
    them (except where noted), so a bounded retry costs one request.

    Permanent (the file fails at once; retrying only delays the verdict):

    - ``bad_field``: JSON of the wrong shape (a field missing or mistyped);
    - ``cursor_loop``: pagination that never ends;
    - ``unexpected_status``: a status the contract never gives for the call
      (a 204 for content, a 206 to a request without ``Range``);
    - ``unexpected_redirect``: a 3xx; the client never follows one (a wrong
      base URL, or a login portal in front of the server), so the next
      request gets the same redirect;
    - ``bad_encoding``: a ``Content-Encoding`` on a representation pinned
      by its sha256 though ``identity`` was asked (a compressing proxy does
      it to every answer);
    - ``digest_mismatch``: the server's own ``Repr-Digest`` says the pinned
      version holds other bytes than the sha256 the task pinned;
    - ``malformed_response``: framing the HTTP parser rejects (status line,
      header block, chunk sizes) from the lean transport; that server or
      middlebox frames every answer the same way.

    Transient (bounded retries):

    - ``bad_json``: not JSON at all (a cut-off answer, a proxy's error page);
    - ``html_page``: a web page where file bytes were expected; a proxy's
      login page goes away once the user signs in to the proxy;
    - ``bad_content_range``, ``bad_content_length``, ``etag_mismatch``: a
      range or length that does not fit the request or the partial; these
      come from caches in between, whose entries change, and from partials
      the next attempt may see differently;
    - ``too_many_bytes``: more bytes than announced (this attempt's bytes
      were removed);
    - ``partial_changed``: the partial file's size on disk is not what this
      download wrote and hashed (another writer, or a file that shrank while
      its prefix was read); the next attempt starts from what is there.
    """

    _PERMANENT: Final = frozenset(
        {
            "bad_field",
            "cursor_loop",
            "unexpected_status",
            "unexpected_redirect",
            "bad_encoding",
            "digest_mismatch",
            "malformed_response",
        }
    )

    def __init__(self, message: str, *, code: str = "bad_field") -> None:
        super().__init__(message)
        self.code: str = code
        self.transient = code not in self._PERMANENT


def is_transient(exc: BaseException) -> bool:
    """Whether retrying the failed operation later can reasonably succeed.

    Transient: network failures (except TLS; :class:`TooSlow` included), 429,
    5xx (except 501/505), 408, and the ProtocolError codes listed as transient
    on :class:`ProtocolError`. Permanent: 400/401/403/404/410, the other
    ProtocolError codes (an answer that will not change: a redirect, an encoded
    body, malformed framing, ...), and everything that is not an
    :class:`ApiError` (local ``OSError`` is the engine's to judge).
    """
    if isinstance(exc, HTTPError) and exc.status == 408:
        return True
    if isinstance(exc, ApiError):
        return exc.transient
    return False


def retry_after_of(exc: BaseException) -> float | None:
    """The server's ``Retry-After`` for this error in seconds, if it sent one."""
    if isinstance(exc, HTTPError):
        return exc.retry_after
    return None


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Parse a ``Retry-After`` header: delay-seconds or an HTTP-date.

    Returns seconds to wait (never negative: a date in the past means "now"),
    or ``None`` when the header is absent or unparseable, in which case the
    caller's own back-off applies. ``now`` (POSIX time) is for tests.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if text.isascii() and text.isdigit():
        return float(int(text))
    try:
        # RFC 9110 allows only digits, but "1.5" is seen in the wild and harmless.
        seconds = float(text)
    except ValueError:
        pass
    else:
        if seconds != seconds or seconds in (float("inf"), float("-inf")):
            return None
        return max(0.0, seconds)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        # parsedate returns a naive datetime for "-0000"; HTTP dates are UTC.
        when = when.replace(tzinfo=datetime.UTC)
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)
