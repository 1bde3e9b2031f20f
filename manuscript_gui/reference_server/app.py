"""The aiohttp application: the v1 API of ``server-api.md`` plus the admin routes.

Per-request work is kept to dict lookups and string formatting. Content bodies
go out with ``loop.sendfile`` straight from the pack file when nothing has to
touch the bytes; only the body-shaping faults (bandwidth, drop, trickle,
content encoding; see ``Faults.shapes_bodies``) and TLS, which cannot
sendfile, route them through Python in chunks.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import gzip
import json
import logging
import os
import random
import re
import secrets
import time
import urllib.parse
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from .demo import describe
from .faults import FaultError, Faults, retry_after_value
from .model import (
    FILE_RANK,
    FOLDER_RANK,
    FileEntry,
    Folder,
    Project,
    User,
    Version,
    rfc3339,
)
from .store import Store, StoreError

log = logging.getLogger("manuscript_gui.reference_server")

DEFAULT_LIMIT = 200
MAX_LIMIT = 1000
#: Chunk size when bodies go through Python (faults, TLS).
CHUNK = 256 * 1024
#: Above this, chunked reads from the pack run in a worker thread.
INLINE_READ_MAX = 1 << 20
#: Bodies up to this size leave in one write together with the headers: for
#: them that costs less server CPU than sendfile's flush/pause/sendfile dance
#: (measured ~15 % less with curl --parallel on 3000 files of 1-256 KiB).
SMALL_BODY = 64 * 1024

#: Error codes of the injected ``errorRate`` answers, by status.
_SERVER_ERROR_CODES = {
    500: "internal_error",
    501: "not_implemented",
    502: "bad_gateway",
    503: "service_unavailable",
    504: "gateway_timeout",
}

#: Kinds of listing items whose raw fields ``/__admin__/{kind}s/{id}/entry`` can override.
_KIND_OF: dict[type, str] = {FileEntry: "file", Folder: "folder", Project: "project"}

_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$", re.IGNORECASE)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class ApiError(Exception):
    """An error answer: status, snake_case code, message, extra headers."""

    def __init__(
        self, status: int, code: str, message: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})


def json_response(
    obj: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    body = json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return web.Response(
        body=body,
        status=status,
        headers=headers,
        content_type="application/json",
        charset="utf-8",
    )


def error_response(
    status: int, code: str, message: str, headers: Mapping[str, str] | None = None
) -> web.Response:
    return json_response({"error": {"code": code, "message": message}}, status, headers)


@dataclass(slots=True, eq=False)
class Session:
    """A token: bound to one user and one identity until it expires or is revoked."""

    token: str
    user: User
    user_type: str
    expires_at: float
    revoked: bool = False
    active_downloads: int = 0


_UNSATISFIABLE = (-1, -1)


_LOGIN_PAGE = (
    "<!doctype html><html><head><title>Sign in</title></head>"
    "<body><form method=post action=/login>Your session has ended. Sign in again."
    "</form></body></html>"
)


def _content_file_id(path: str) -> str | None:
    """The file id of a ``/api/v1/files/{id}/versions/{n}/content`` path, else None."""
    parts = path.split("/")
    if len(parts) == 8 and parts[1:4] == ["api", "v1", "files"] and parts[7] == "content":
        return urllib.parse.unquote(parts[4])
    return None


def parse_range(value: str, size: int) -> tuple[int, int] | None:
    """Parse one ``bytes=`` range into inclusive ``(first, last)`` offsets.

    Returns None when the header should be ignored (malformed, several
    ranges, last < first: RFC 9110 lets a server answer 200 then), and
    ``_UNSATISFIABLE`` when the range starts at or past the end.
    """
    m = _RANGE.match(value)
    if m is None:
        return None
    first_s, last_s = m.groups()
    if not first_s:
        if not last_s:
            return None
        suffix = int(last_s)  # bytes=-N: the last N bytes
        if suffix == 0 or size == 0:
            return _UNSATISFIABLE
        return max(0, size - suffix), size - 1
    first = int(first_s)
    last = int(last_s) if last_s else size - 1
    if last_s and last < first:
        return None
    if first >= size:
        return _UNSATISFIABLE
    return first, min(last, size - 1)


def _encode_cursor(scope: str, key: tuple[Any, ...]) -> str:
    raw = json.dumps([scope, list(key)], ensure_ascii=False, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode("utf-8")).decode("ascii").rstrip("=")


def _decode_cursor(cursor: str, scope: str, types: tuple[type, ...]) -> tuple[Any, ...]:
    bad = ApiError(400, "bad_request", "invalid cursor")
    try:
        raw = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True)
        data = json.loads(raw.decode("utf-8"))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise bad from None
    if not (isinstance(data, list) and len(data) == 2 and data[0] == scope):
        raise bad
    key = data[1]
    if not (
        isinstance(key, list)
        and len(key) == len(types)
        and all(type(k) is t for k, t in zip(key, types, strict=True))
    ):
        raise bad
    return tuple(key)


class ServerApp:
    """The state behind the routes: store, tokens, faults."""

    def __init__(self, store: Store, *, admin: bool) -> None:
        self.store = store
        self.admin = admin
        self.faults = Faults()
        self.tokens: dict[str, Session] = {}
        #: Raw listing fields per ``(kind, id)``: merged into that item of every
        #: listing; a None value removes the key (see ``admin_set_entry``).
        self.entry_overrides: dict[tuple[str, str], dict[str, Any]] = {}
        self.rng = random.Random()
        self._logins = 0
        #: Requests seen while ``failOnce`` is on (``"METHOD /path?query"``).
        self.failed_once: set[str] = set()
        #: Fresh cursors handed out while ``cursorLoop`` is ``"empty"``.
        self._loop_pages = 0

    def build(self) -> web.Application:
        # Admin bodies carry whole files (base64 in JSON), hence the large cap.
        app = web.Application(middlewares=[self._middleware], client_max_size=1 << 31)
        r = app.router
        r.add_post("/api/v1/auth/login", self.login)
        r.add_post("/api/v1/auth/logout", self.logout)
        r.add_get("/api/v1/me", self.me)
        r.add_get("/api/v1/projects", self.list_projects)
        r.add_get("/api/v1/projects/{projectId}/folders/{folderId}/children", self.list_children)
        r.add_get("/api/v1/files/{fileId}", self.file_info)
        r.add_get(r"/api/v1/files/{fileId}/versions/{version:\d+}/content", self.content)
        if self.admin:
            r.add_get("/__admin__/faults", self.admin_get_faults)
            r.add_post("/__admin__/faults", self.admin_set_faults)
            r.add_post("/__admin__/reset", self.admin_reset)
            r.add_post("/__admin__/tokens/revoke", self.admin_revoke)
            r.add_post("/__admin__/files/{fileId}/versions", self.admin_publish)
            r.add_delete(r"/__admin__/files/{fileId}/versions/{version:\d+}", self.admin_purge)
            r.add_delete("/__admin__/files/{fileId}", self.admin_delete)
            r.add_post("/__admin__/access", self.admin_access)
            r.add_post("/__admin__/projects", self.admin_create_project)
            r.add_post("/__admin__/projects/{projectId}/files", self.admin_add_file)
            r.add_get("/__admin__/demo", self.admin_demo)
            r.add_post("/__admin__/files/{id}/entry", self.admin_file_entry)
            r.add_post("/__admin__/folders/{id}/entry", self.admin_folder_entry)
            r.add_post("/__admin__/projects/{id}/entry", self.admin_project_entry)
        return app

    # -- cross-cutting -------------------------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            path = request.path
            if path.startswith("/api/"):
                faults = self.faults
                if faults.latency_ms > 0:
                    await asyncio.sleep(faults.latency_ms / 1000)
                if (
                    faults.error_rate > 0
                    and not path.startswith("/api/v1/auth/")
                    and self.rng.random() < faults.error_rate
                ) or (
                    (faults.error_files and _content_file_id(path) in faults.error_files)
                    or (faults.fail_once and self._first_time(request))
                ):
                    status = faults.error_status
                    retry = faults.retry_after_s
                    raise ApiError(
                        status,
                        _SERVER_ERROR_CODES.get(status, "server_error"),
                        "the server is overloaded (injected fault), retry later"
                        if status == 503
                        else f"injected server error {status}",
                        None if retry is None else {"Retry-After": retry_after_value(retry)},
                    )
            return await handler(request)
        except ApiError as exc:
            return error_response(exc.status, exc.code, exc.message, exc.headers)
        except StoreError as exc:
            return error_response(exc.status, exc.code, exc.message)
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            codes = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}
            code = codes.get(exc.status, "bad_request" if exc.status < 500 else "internal_error")
            extra = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None
            message = "no such endpoint" if exc.status == 404 else exc.reason
            return error_response(exc.status, code, message, extra)
        except Exception:
            log.exception("unexpected error on %s %s", request.method, request.path)
            return error_response(500, "internal_error", "unexpected server error")

    def _first_time(self, request: web.Request) -> bool:
        """``failOnce``: whether this API request (not a login/logout) is new; notes it."""
        if request.path.startswith("/api/v1/auth/"):
            return False
        key = f"{request.method} {request.path_qs}"
        if key in self.failed_once:
            return False
        self.failed_once.add(key)
        return True

    def _loop_request(self, cursor: str | None) -> tuple[web.Response | None, str | None]:
        """``cursorLoop``: ``(answer, cursor)`` for a listing request.

        ``answer`` is the whole answer to a cursor of the ``"empty"`` loop (no
        items, a fresh cursor), else None; ``cursor`` is the cursor to serve
        (None, the first page, for the ``"repeat"`` loop's cursor).
        """
        loop = self.faults.cursor_loop
        if loop is None or cursor is None or not cursor.startswith("loop-"):
            return None, cursor
        if loop == "empty" and cursor.startswith("loop-empty-"):
            return json_response({"items": [], "nextCursor": self._fresh_loop_cursor()}), None
        if loop == "repeat" and cursor == "loop-repeat":
            return None, None
        raise ApiError(400, "bad_request", "invalid cursor")

    def _fresh_loop_cursor(self) -> str:
        self._loop_pages += 1
        return f"loop-empty-{self._loop_pages}"

    def _loop_cursor(self, next_cursor: str | None) -> str | None:
        """``cursorLoop``: the ``nextCursor`` a page carries instead of ``next_cursor``."""
        loop = self.faults.cursor_loop
        if loop == "repeat":
            return "loop-repeat"
        if loop == "empty" and next_cursor is None:
            return self._fresh_loop_cursor()
        return next_cursor

    def _auth(self, request: web.Request) -> Session:
        header = request.headers.get("Authorization", "")
        if header[:7].lower() != "bearer ":
            raise ApiError(
                401, "unauthorized", "missing bearer token", {"WWW-Authenticate": "Bearer"}
            )
        session = self.tokens.get(header[7:].strip())
        problem = None
        if session is None:
            problem = "unknown token"
        elif session.revoked:
            problem = "token revoked"
        elif session.expires_at <= time.time():
            problem = "token expired"
        if problem is not None or session is None:
            raise ApiError(
                401, "unauthorized", problem or "unknown token", {"WWW-Authenticate": "Bearer"}
            )
        return session

    def _check_project(self, session: Session, project_id: str) -> None:
        if project_id not in self.store.projects:
            raise ApiError(404, "not_found", f"no project {project_id!r}")
        if not self.store.can_see(session.user.id, session.user_type, project_id):
            raise ApiError(403, "forbidden", "this identity may not see the project")

    def _file(self, session: Session, file_id: str) -> FileEntry:
        entry = self.store.files.get(file_id)
        if entry is None:
            raise ApiError(404, "not_found", f"no file {file_id!r}")
        if not self.store.can_see(session.user.id, session.user_type, entry.project_id):
            raise ApiError(403, "forbidden", "this identity may not see the file's project")
        if entry.deleted:
            raise ApiError(410, "file_deleted", "the file was deleted on the server")
        return entry

    @staticmethod
    def _page_args(request: web.Request) -> tuple[int, str | None]:
        raw = request.query.get("limit")
        limit = DEFAULT_LIMIT
        if raw is not None:
            if not raw.isascii() or not raw.isdigit() or int(raw) < 1:
                raise ApiError(400, "bad_request", f"limit must be a positive integer, got {raw!r}")
            limit = min(int(raw), MAX_LIMIT)
        return limit, request.query.get("cursor") or None

    @staticmethod
    def _check_text(*values: str | None) -> None:
        # JSON can smuggle lone surrogates ("\ud800"); they have no UTF-8 form,
        # so neither SQLite nor any answer could carry them back.
        for value in values:
            if value is not None:
                try:
                    value.encode("utf-8")
                except UnicodeEncodeError:
                    raise ApiError(
                        400, "bad_request", "names must be valid Unicode (no lone surrogates)"
                    ) from None

    @staticmethod
    async def _json_body(request: web.Request) -> Any:
        raw = await request.read()
        try:
            return json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise ApiError(400, "bad_request", "the body is not valid JSON") from None

    # -- auth ----------------------------------------------------------------

    def _identities(self, user: User) -> list[dict[str, str]]:
        return [{"userType": i.user_type, "label": i.label} for i in user.identities]

    async def login(self, request: web.Request) -> web.StreamResponse:
        body = await self._json_body(request)
        if not isinstance(body, dict):
            raise ApiError(400, "bad_request", "the body must be a JSON object")
        username, password = body.get("username"), body.get("password")
        user_type = body.get("userType")
        if not isinstance(username, str) or not isinstance(password, str):
            raise ApiError(400, "bad_request", "username and password must be strings")
        if user_type is not None and not isinstance(user_type, str):
            raise ApiError(400, "bad_request", "userType must be a string or null")
        user = self.store.check_password(username, password)
        if user is None:
            raise ApiError(401, "invalid_credentials", "wrong username or password")
        ident = user.identity(user_type)
        if ident is None:
            raise ApiError(
                403, "identity_not_allowed", f"user {username!r} has no identity {user_type!r}"
            )
        token = secrets.token_urlsafe(32)
        session = Session(token, user, ident.user_type, time.time() + self.faults.token_ttl)
        self.tokens[token] = session
        self._logins += 1
        if self._logins % 1000 == 0:
            self._prune_tokens()
        return json_response(
            {
                "token": token,
                "expiresAt": rfc3339(session.expires_at),
                "user": {"id": user.id, "name": user.name},
                "userType": ident.user_type,
                "identities": self._identities(user),
            }
        )

    def _prune_tokens(self) -> None:
        # Keep dead tokens for an hour so a late request still learns *why* (expired/revoked).
        horizon = time.time() - 3600
        dead = [t for t, s in self.tokens.items() if s.expires_at < horizon]
        for t in dead:
            del self.tokens[t]

    async def logout(self, request: web.Request) -> web.StreamResponse:
        self._auth(request).revoked = True
        return web.Response(status=204)

    async def me(self, request: web.Request) -> web.StreamResponse:
        session = self._auth(request)
        user = session.user
        return json_response(
            {
                "user": {"id": user.id, "name": user.name},
                "userType": session.user_type,
                "identities": self._identities(user),
            }
        )

    # -- browsing --------------------------------------------------------------

    async def list_projects(self, request: web.Request) -> web.StreamResponse:
        session = self._auth(request)
        limit, cursor = self._page_args(request)
        looped, cursor = self._loop_request(cursor)
        if looped is not None:
            return looped
        scope = "projects"
        projects = sorted(
            self.store.visible_projects(session.user.id, session.user_type),
            key=lambda p: (p.name, p.id),
        )
        start = 0
        if cursor is not None:
            after = _decode_cursor(cursor, scope, (str, str))
            start = next(
                (i for i, p in enumerate(projects) if (p.name, p.id) > after), len(projects)
            )
        page = projects[start : start + limit]
        more = start + limit < len(projects)
        next_cursor = _encode_cursor(scope, (page[-1].name, page[-1].id)) if more else None
        next_cursor = self._loop_cursor(next_cursor)
        return json_response({"items": self._listed(page), "nextCursor": next_cursor})

    async def list_children(self, request: web.Request) -> web.StreamResponse:
        session = self._auth(request)
        project_id = request.match_info["projectId"]
        folder_id: str | None = request.match_info["folderId"]
        self._check_project(session, project_id)
        if folder_id == "root":
            folder_id = None
        else:
            folder = self.store.folders.get(folder_id or "")
            if folder is None or folder.project_id != project_id:
                raise ApiError(404, "not_found", f"no folder {folder_id!r} in this project")
        limit, cursor = self._page_args(request)
        looped, cursor = self._loop_request(cursor)
        if looped is not None:
            return looped
        # The scope ties a cursor to the listing it came from.
        scope = f"children:{project_id}:{folder_id or 'root'}"
        after = None
        if cursor is not None:
            key = _decode_cursor(cursor, scope, (int, str, str))
            if key[0] not in (FOLDER_RANK, FILE_RANK):
                raise ApiError(400, "bad_request", "invalid cursor")
            after = (int(key[0]), str(key[1]), str(key[2]))
        nodes, last = self.store.children_of(project_id, folder_id).page(after, limit)
        next_cursor = None if last is None else _encode_cursor(scope, last)
        return json_response(
            {"items": self._listed(nodes), "nextCursor": self._loop_cursor(next_cursor)}
        )

    def _listed(self, nodes: Sequence[Project | Folder | FileEntry]) -> list[dict[str, object]]:
        """The listing items of ``nodes``, with any admin entry overrides applied."""
        items = [n.as_item() for n in nodes]
        if self.entry_overrides:
            for node, item in zip(nodes, items, strict=True):
                kind = _KIND_OF[type(node)]
                override = self.entry_overrides.get((kind, node.id))
                if override is not None:
                    for key, value in override.items():
                        if value is None:
                            item.pop(key, None)
                        else:
                            item[key] = value
        return items

    async def file_info(self, request: web.Request) -> web.StreamResponse:
        session = self._auth(request)
        entry = self._file(session, request.match_info["fileId"])
        versions = [v.as_item() for _, v in sorted(entry.versions.items()) if not v.purged]
        return json_response(
            {
                "id": entry.id,
                "projectId": entry.project_id,
                "name": entry.name,
                "currentVersion": entry.current_version,
                "versions": versions,
            }
        )

    # -- downloading -------------------------------------------------------------

    def _version(self, session: Session, file_id: str, number: int) -> tuple[FileEntry, Version]:
        entry = self._file(session, file_id)
        rec = entry.versions.get(number)
        if rec is None or rec.purged:
            raise ApiError(
                404, "version_not_found", f"version {number} of this file is not on the server"
            )
        return entry, rec

    async def content(self, request: web.Request) -> web.StreamResponse:
        # One snapshot of the knobs for the whole answer, so a change made
        # while a body is being sent never mixes two settings in one response.
        faults = self.faults
        if faults.redirect_content is not None:
            # Like a login proxy in front of the server: every content request
            # is redirected, before the token or the file is even looked at.
            return web.Response(status=302, headers={"Location": faults.redirect_content})
        if faults.html_content:
            # Like a login proxy whose session ran out: 200 and a sign-in page.
            return web.Response(
                status=200, text=_LOGIN_PAGE, content_type="text/html", charset="utf-8"
            )
        session = self._auth(request)
        entry, rec = self._version(
            session, request.match_info["fileId"], int(request.match_info["version"])
        )
        size = rec.size
        headers = {
            "Content-Type": entry.content_type,
            "Accept-Ranges": "bytes",
            "ETag": f"W/{rec.etag}" if faults.weak_etags else rec.etag,
            "Repr-Digest": rec.repr_digest,
        }
        status, first, count = 200, 0, size
        range_header = request.headers.get("Range")
        if range_header is not None:
            if_range = request.headers.get("If-Range")
            # If-Range needs a strong match (RFC 9110 13.1.5): a weak validator
            # never matches, and a stale one means "send it all".
            if if_range is None or (not faults.weak_etags and if_range.strip() == rec.etag):
                parsed = parse_range(range_header, size)
                if parsed is _UNSATISFIABLE:
                    raise ApiError(
                        416,
                        "range_not_satisfiable",
                        f"the range starts past the end of a {size}-byte file",
                        {"Content-Range": f"bytes */{size}"},
                    )
                if parsed is not None:
                    first, last = parsed
                    status, count = 206, last - first + 1
                    headers["Content-Range"] = f"bytes {first}-{last}/{size}"
        encoded: bytes | None = None
        if faults.content_encoding == "gzip":
            # A misbehaving proxy: it compresses whatever body the server
            # produced (a 206's range included) and leaves the other headers.
            encoded = await self._gzip(rec, rec.offset + first, count)
            headers["Content-Encoding"] = "gzip"
            count = len(encoded)
        if request.method == "HEAD" or count == 0:
            resp = web.StreamResponse(status=status, headers=headers)
            resp.content_length = count
            return resp
        cap = faults.max_concurrent_per_token
        if cap is not None and session.active_downloads >= cap:
            retry = faults.rate_limit_retry_after_s
            raise ApiError(
                429,
                "rate_limited",
                f"at most {cap} concurrent downloads per token",
                None if retry is None else {"Retry-After": retry_after_value(retry)},
            )
        if count <= SMALL_BODY and not faults.shapes_bodies:
            body = os.pread(self.store.packs.reader(rec.pack).fileno(), count, rec.offset + first)
            if len(body) != count:
                raise OSError(f"pack {rec.pack} is shorter than its index says")
            return web.Response(status=status, headers=headers, body=body)
        resp = web.StreamResponse(status=status, headers=headers)
        resp.content_length = count
        session.active_downloads += 1
        try:
            await self._send_body(request, resp, rec, encoded, rec.offset + first, count, faults)
        finally:
            session.active_downloads -= 1
        return resp

    async def _gzip(self, rec: Version, offset: int, count: int) -> bytes:
        """The gzip encoding of ``count`` bytes of ``rec``'s pack at ``offset`` (in memory)."""
        fd = self.store.packs.reader(rec.pack).fileno()

        def compress() -> bytes:
            data = bytearray()
            while len(data) < count:
                piece = os.pread(fd, min(count - len(data), 1 << 24), offset + len(data))
                if not piece:
                    raise OSError(f"pack {rec.pack} is shorter than its index says")
                data += piece
            # mtime=0: the same bytes always give the same encoding.
            return gzip.compress(bytes(data), compresslevel=6, mtime=0)

        if count > INLINE_READ_MAX:
            return await asyncio.get_running_loop().run_in_executor(None, compress)
        return compress()

    async def _send_body(
        self,
        request: web.Request,
        resp: web.StreamResponse,
        rec: Version,
        encoded: bytes | None,
        offset: int,
        count: int,
        faults: Faults,
    ) -> None:
        """Send ``count`` bytes: ``encoded`` if given, else the pack's bytes at ``offset``."""
        reader = self.store.packs.reader(rec.pack)
        transport = request.transport
        tls = transport is not None and transport.get_extra_info("sslcontext") is not None
        try:
            if faults.shapes_bodies or tls or encoded is not None:
                source: bytes | int = encoded if encoded is not None else reader.fileno()
                await self._send_chunks(request, resp, source, offset, count, faults)
                return
            await resp.prepare(request)
            transport = request.transport
            if transport is None or transport.is_closing():
                return
            # Zero-copy: page cache -> socket, no Python in the byte path.
            await asyncio.get_running_loop().sendfile(transport, reader, offset, count)
            await resp.write_eof()
        except ConnectionError:
            # The client went away mid-body; make sure the connection is not reused.
            if request.transport is not None:
                request.transport.close()

    async def _send_chunks(
        self,
        request: web.Request,
        resp: web.StreamResponse,
        source: bytes | int,
        offset: int,
        count: int,
        faults: Faults,
    ) -> None:
        """Write the body through Python, applying the drop, bandwidth and trickle faults.

        ``source`` is the whole body (bytes, ``offset`` unused) or a pack's file
        descriptor to read ``count`` bytes from at ``offset``.
        """
        loop = asyncio.get_running_loop()
        cut_at = None
        if faults.drop_rate > 0 and self.rng.random() < faults.drop_rate:
            cut_at = self.rng.randrange(count)  # bytes delivered before the cut
        bps = faults.bandwidth_bps
        trickle = faults.trickle_interval_s
        chunk = CHUNK if bps is None else max(1024, min(CHUNK, bps // 20))
        if trickle is not None:
            chunk = min(chunk, 4096)
        end = count if cut_at is None else cut_at
        threaded = count > INLINE_READ_MAX
        await resp.prepare(request)
        started = loop.time()
        last_write: float | None = None
        sent = 0
        while sent < end:
            n = min(chunk, end - sent)
            if isinstance(source, bytes):
                data = source[sent : sent + n]
            elif threaded:
                data = await loop.run_in_executor(None, os.pread, source, n, offset + sent)
            else:
                data = os.pread(source, n, offset + sent)
            if not data:
                raise OSError("pack file is shorter than its index says")
            # Trickle: the block read above leaves one byte per write.
            pieces = [data[i : i + 1] for i in range(len(data))] if trickle else [data]
            for piece in pieces:
                due = started
                if bps is not None:
                    # Hold each piece until the time its last byte is due, so the
                    # final byte leaves at size/bps, not one chunk early.
                    due = started + (sent + len(piece)) / bps
                if trickle is not None and last_write is not None:
                    due = max(due, last_write + trickle)
                early = due - loop.time()
                if early > 0:
                    await asyncio.sleep(early)
                await resp.write(piece)
                last_write = loop.time()
                sent += len(piece)
        if cut_at is not None:
            # Injected drop: the client must see a short body and a closed
            # connection, never a clean end of message.
            if request.transport is not None:
                request.transport.close()
            return
        await resp.write_eof()

    # -- admin -----------------------------------------------------------------

    async def admin_get_faults(self, request: web.Request) -> web.StreamResponse:
        return json_response(self.faults.to_json())

    async def admin_set_faults(self, request: web.Request) -> web.StreamResponse:
        body = await self._json_body(request)
        try:
            self.faults = self.faults.merged(body)
        except FaultError as exc:
            raise ApiError(400, "bad_request", str(exc)) from None
        if isinstance(body, dict) and "failOnce" in body:
            self.failed_once.clear()
        return json_response(self.faults.to_json())

    async def admin_reset(self, request: web.Request) -> web.StreamResponse:
        self.faults = Faults()
        self.entry_overrides.clear()
        self.failed_once.clear()
        return json_response(self.faults.to_json())

    async def _set_entry(self, request: web.Request, kind: str, exists: bool) -> web.Response:
        """Merge raw fields into the listing item of one file, folder or project.

        The body is a JSON object: each key replaces that field of the item in
        every listing (any JSON value, so malformed metadata can be served), a
        null value removes the key, and ``{}`` drops every override of the item.
        Listings only: ``/files/{id}`` and content answers are unaffected.
        """
        item_id = request.match_info["id"]
        if not exists:
            raise ApiError(404, "not_found", f"no {kind} {item_id!r}")
        body = await self._json_body(request)
        if not isinstance(body, dict):
            raise ApiError(400, "bad_request", "the body must be a JSON object")
        try:
            json.dumps(body, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise ApiError(
                400, "bad_request", "fields must be valid Unicode (no lone surrogates)"
            ) from None
        key = (kind, item_id)
        if not body:
            self.entry_overrides.pop(key, None)
        else:
            self.entry_overrides.setdefault(key, {}).update(body)
        return web.Response(status=204)

    async def admin_file_entry(self, request: web.Request) -> web.StreamResponse:
        return await self._set_entry(request, "file", request.match_info["id"] in self.store.files)

    async def admin_folder_entry(self, request: web.Request) -> web.StreamResponse:
        exists = request.match_info["id"] in self.store.folders
        return await self._set_entry(request, "folder", exists)

    async def admin_project_entry(self, request: web.Request) -> web.StreamResponse:
        exists = request.match_info["id"] in self.store.projects
        return await self._set_entry(request, "project", exists)

    async def admin_revoke(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        body = await self._json_body(request) if raw.strip() else {}
        if not isinstance(body, dict):
            raise ApiError(400, "bad_request", "the body must be a JSON object")
        username = body.get("username")
        if username is not None and not isinstance(username, str):
            raise ApiError(400, "bad_request", "username must be a string or null")
        revoked = 0
        for session in self.tokens.values():
            if not session.revoked and (username is None or session.user.username == username):
                session.revoked = True
                revoked += 1
        return json_response({"revoked": revoked})

    async def admin_publish(self, request: web.Request) -> web.StreamResponse:
        data = await request.read()
        rec = self.store.publish_version(request.match_info["fileId"], data)
        return json_response(
            {"id": rec.file_id, "version": rec.version, "sha256": rec.sha256, "size": rec.size},
            201,
        )

    async def admin_purge(self, request: web.Request) -> web.StreamResponse:
        self.store.purge_version(request.match_info["fileId"], int(request.match_info["version"]))
        return web.Response(status=204)

    async def admin_delete(self, request: web.Request) -> web.StreamResponse:
        self.store.delete_file(request.match_info["fileId"])
        return web.Response(status=204)

    async def admin_access(self, request: web.Request) -> web.StreamResponse:
        body = await self._json_body(request)
        if not isinstance(body, dict):
            raise ApiError(400, "bad_request", "the body must be a JSON object")
        username, user_type = body.get("username"), body.get("userType")
        project_id, allowed = body.get("projectId"), body.get("allowed")
        if not (
            isinstance(username, str) and isinstance(user_type, str) and isinstance(project_id, str)
        ):
            raise ApiError(400, "bad_request", "username, userType and projectId must be strings")
        if not isinstance(allowed, bool):
            raise ApiError(400, "bad_request", "allowed must be true or false")
        user = self.store.users_by_name.get(username)
        if user is None:
            raise ApiError(404, "not_found", f"no user {username!r}")
        if project_id not in self.store.projects:
            raise ApiError(404, "not_found", f"no project {project_id!r}")
        if user.identity(user_type) is None:
            raise ApiError(400, "bad_request", f"user {username!r} has no identity {user_type!r}")
        self.store.set_access(user.id, user_type, project_id, allowed)
        return web.Response(status=204)

    async def admin_create_project(self, request: web.Request) -> web.StreamResponse:
        body = await self._json_body(request)
        if not isinstance(body, dict) or not isinstance(body.get("name"), str):
            raise ApiError(400, "bad_request", "expected {'name': str, 'code': str | null}")
        code = body.get("code")
        client, period = body.get("client", ""), body.get("period", "")
        if code is not None and not isinstance(code, str):
            raise ApiError(400, "bad_request", "code must be a string or null")
        if not isinstance(client, str) or not isinstance(period, str):
            raise ApiError(400, "bad_request", "client and period must be strings")
        self._check_text(body["name"], code, client, period)
        project = self.store.create_project(body["name"], code, client, period)
        return json_response({"id": project.id}, 201)

    async def admin_add_file(self, request: web.Request) -> web.StreamResponse:
        body = await self._json_body(request)
        if not isinstance(body, dict):
            raise ApiError(400, "bad_request", "the body must be a JSON object")
        folders, name, b64 = body.get("folders", []), body.get("name"), body.get("contentBase64")
        if not isinstance(folders, list) or not all(isinstance(f, str) for f in folders):
            raise ApiError(400, "bad_request", "folders must be a list of strings")
        if not isinstance(name, str) or not isinstance(b64, str):
            raise ApiError(400, "bad_request", "name and contentBase64 must be strings")
        self._check_text(name, *folders)
        try:
            data = base64.b64decode(b64, validate=True)
        except binascii.Error:
            raise ApiError(400, "bad_request", "contentBase64 is not valid base64") from None
        entry, rec = self.store.add_file(request.match_info["projectId"], folders, name, data)
        return json_response(
            {
                "id": entry.id,
                "version": rec.version,
                "sha256": rec.sha256,
                "size": rec.size,
                "projectId": entry.project_id,
                "folderId": entry.folder_id,
            },
            201,
        )

    async def admin_demo(self, request: web.Request) -> web.StreamResponse:
        return json_response(describe(self.store).to_json())
