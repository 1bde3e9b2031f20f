"""The errors a front end handles, from one place above the network layer.

A window or the command line catches these around :class:`Session` calls (sign
in, identities) and browsing; they are the client's own classes
(``net/errors.py`` draws the hierarchy), re-exported so front ends never import
the network layer. Task actions raise
:class:`~manuscript_gui.services.exports.ActionError` instead.
"""

from manuscript_gui.net import (
    ApiError,
    CertificateError,
    ConnectError,
    HTTPError,
    IdentityNotAllowed,
    InvalidCredentials,
    NetworkError,
    ProtocolError,
    ServerError,
    TLSError,
    Unauthorized,
)

__all__ = [
    "ApiError",
    "CertificateError",
    "ConnectError",
    "HTTPError",
    "IdentityNotAllowed",
    "InvalidCredentials",
    "NetworkError",
    "ProtocolError",
    "ServerError",
    "TLSError",
    "Unauthorized",
]
