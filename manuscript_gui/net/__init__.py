"""The API client layer: the server contract of ``server-api.md`` over httpx.

No Qt, no database: everything here runs on a plain asyncio loop. Import from
this package, not from its modules::

    async with ApiClient("https://wp.example.com") as client:
        await client.login("demo", "demo")
        async for project in client.iter_projects():
            ...
"""

from manuscript_gui.net.client import (
    DEFAULT_TIMEOUTS,
    MAX_EMPTY_PAGES,
    ApiClient,
    PageGuard,
    Timeouts,
)
from manuscript_gui.net.errors import (
    ApiError,
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
    TooSlow,
    Unauthorized,
    VersionNotFound,
    is_transient,
    parse_retry_after,
    retry_after_of,
)
from manuscript_gui.net.throttle import BandwidthLimiter
from manuscript_gui.net.wire import (
    BadFileEntry,
    ChildEntry,
    DownloadResult,
    DownloadStart,
    FileEntry,
    FileInfo,
    FileVersion,
    FolderEntry,
    Identity,
    LoginResult,
    Me,
    Page,
    Project,
    User,
)

__all__ = [
    "DEFAULT_TIMEOUTS",
    "MAX_EMPTY_PAGES",
    "ApiClient",
    "ApiError",
    "BadFileEntry",
    "BadRequest",
    "BandwidthLimiter",
    "CertificateError",
    "ChildEntry",
    "ConnectError",
    "DownloadResult",
    "DownloadStart",
    "FileEntry",
    "FileInfo",
    "FileVersion",
    "FolderEntry",
    "Forbidden",
    "Gone",
    "HTTPError",
    "Identity",
    "IdentityNotAllowed",
    "IncompleteBody",
    "InvalidCredentials",
    "LoginResult",
    "Me",
    "NetworkError",
    "NetworkTimeout",
    "NotFound",
    "Page",
    "PageGuard",
    "Project",
    "ProtocolError",
    "RateLimited",
    "ServerError",
    "TLSError",
    "Timeouts",
    "TooSlow",
    "Unauthorized",
    "User",
    "VersionNotFound",
    "is_transient",
    "parse_retry_after",
    "retry_after_of",
]
