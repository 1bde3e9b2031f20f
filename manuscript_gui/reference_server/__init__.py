"""The reference working-paper server: ``server-api.md`` v1, for demos, tests and benchmarks.

The client never imports this package; it talks to it over HTTP like to any
real deployment. It is an aiohttp.web app over a data directory of its own (a
SQLite metadata file and a few append-only pack files); see ``store.py``.

Starting it
-----------
Command line (``manuscript-server`` or ``python -m manuscript_gui.reference_server``)::

    manuscript-server --data /tmp/wp --port 8765 --admin --large-project-files 3000

In-process (tests, the app's demo mode)::

    from manuscript_gui.reference_server import DemoSpec, start_in_thread
    with start_in_thread(tmp_dir, demo=DemoSpec(files_per_project=20), admin=True) as handle:
        handle.base_url          # "http://127.0.0.1:43123"
        handle.facts             # DemoFacts: who sees which project, special ids

or inside a running loop: ``async with ReferenceServer(tmp_dir, ...) as server:``.

Demo accounts (always created; ``DEMO_ACCOUNTS``)
-------------------------------------------------
=========  ========  ===============================================================
user       password  identities (first = default) -> projects seen
=========  ========  ===============================================================
demo       demo      auditor 审计员 -> prj-1, prj-2, prj-3, large;
                     manager 项目经理 -> prj-2, prj-3, prj-4, prj-5, large
lisi       lisi      auditor 审计员 -> prj-1, prj-5
wangwu     wangwu    qc 质控复核人 -> every demo project; partner 签字合伙人 -> prj-1, prj-4
=========  ========  ===============================================================

Demo projects: prj-1 上海某某科技股份有限公司 2025年度财务报表审计, prj-2 北京某某贸易,
prj-3 深圳某某电子 (内部控制审计), prj-4 杭州某某医药集团 (合并), prj-5 广州某某物流 2024年度,
and, when ``large_project_files`` > 0, prj-6 某某控股集团 with that many files. Each holds
a working-paper index (``A 业务承接``, ``B 风险评估``, ``C 控制测试``,
``D 实质性程序/D1 货币资金/…``, ``E 完成阶段``) with files such as
``D1-1 货币资金审定表.xlsx``; past the ~60 standard papers, vouchers are filed under
``D…/D…-9 凭证抽查/2025年MM月/``. ``wide_folder_children`` puts that many
confirmation letters directly in prj-1's ``D 实质性程序/D3 应收账款/D3-5 询证函回函``;
``big_file_size`` adds ``E 完成阶段/E9 电子档案/E9-1 审计档案归档包.zip`` to prj-1.
About one paper in ten has two versions. :class:`DemoFacts` gives the exact ids.

Behaviour the contract leaves open
----------------------------------
- Lists are ordered folders first, then by name, then by id. ``limit`` defaults
  to 200 and is capped at 1000; anything but a positive integer is 400.
  Cursors are keyset cursors (they name the last item seen), so inserts and
  deletes between pages never duplicate or skip an item; a cursor from another
  listing, or garbage, is 400 ``bad_request``.
- ETag: ``"<fileId>.v<version>.<sha256 prefix>"``. Ranges: one ``bytes=N-``,
  ``bytes=N-M`` or ``bytes=-N``; several ranges, or a malformed one, are ignored
  (200 with the whole body). HEAD answers the same headers as GET.
- Purging a file's current version makes the newest remaining version current;
  when none remains the file stays listed and its content answers 404.
  A deleted file disappears from listings; its metadata and content answer 410.
- ``GET /files/{id}`` lists only versions that were not purged.
- Tokens live in memory: a restart logs everybody out (401).

Admin and fault endpoints (``admin=True`` / ``--admin``, loopback only)
-------------------------------------------------------------------------
Without the flag these routes do not exist (404 ``not_found``). With it on a
non-loopback host the server refuses to start (:class:`ServerConfigError`).

- ``POST /__admin__/faults`` -- merge any of the knobs below (absent keys keep
  their value; unknown keys or bad values are 400 and change nothing); answers
  the current values. ``GET /__admin__/faults`` reads them;
  ``POST /__admin__/reset`` sets every knob back to its default (off) and drops
  every listing override (below).
- ``POST /__admin__/tokens/revoke`` ``{"username": str | null}`` -> ``{"revoked": n}``.
- ``POST /__admin__/files/{id}/versions`` (raw body) -> 201 ``{"id", "version", "sha256", "size"}``.
- ``DELETE /__admin__/files/{id}/versions/{n}`` -> 204; ``DELETE /__admin__/files/{id}`` -> 204.
- ``POST /__admin__/access`` ``{"username", "userType", "projectId", "allowed"}`` -> 204.
- ``POST /__admin__/projects`` ``{"name", "code"}`` -> 201 ``{"id"}`` (optional
  ``client``, ``period``); visible to nobody until granted.
- ``POST /__admin__/projects/{id}/files`` ``{"folders", "name", "contentBase64"}``
  -> 201 ``{"id", "version", "sha256", "size", "projectId", "folderId"}``. Folder
  names are matched verbatim and created when missing; a file is always created,
  even beside one with the same name. No name is cleaned.
- ``GET /__admin__/demo`` -- :class:`DemoFacts` as JSON (accounts, who sees what, ids).
- ``POST /__admin__/files/{id}/entry``, ``POST /__admin__/folders/{id}/entry``,
  ``POST /__admin__/projects/{id}/entry`` -- listing overrides, for malformed
  metadata. The body is a JSON object of raw fields merged into that item in
  every listing that shows it (``.../children`` for files and folders,
  ``/api/v1/projects`` for projects): ``{"updatedAt": "2016-12-31T23:59:60Z"}``,
  ``{"size": "12"}``, ``{"kind": "symlink"}``; any JSON value is served as is,
  and a null value removes the key (``{"sha256": null}``). Later calls add to
  earlier ones; ``{}`` drops every override of that item. -> 204. An unknown id
  is 404 ``not_found``; a body that is not a JSON object is 400. Only listings
  change: ``/files/{id}`` and content answers keep the real values.

Fault knobs (all off by default):

``latencyMs``
    Sleep this long before answering every ``/api/`` request (auth included).
``bandwidthBps``
    Pace every content body to this many bytes/s (per response, not global).
    0 or null: off.
``dropRate``
    0-1: the chance that a content body is cut at a random byte (possibly
    before the first one) and the connection closed. ``Content-Length`` still
    announces the full size, so the client sees a short body or a connection
    error, never a clean short 200.
``errorRate``
    0-1: the chance that an ``/api/v1`` request other than ``/api/v1/auth/*``
    is answered ``errorStatus`` (default 503 ``service_unavailable``) with
    ``Retry-After: <retryAfterS>`` (default 1). ``errorRate=1`` is "503 always".
``errorStatus``
    Integer 500-599 (default 503; null restores it): the status of the
    ``errorRate`` answers. The
    error code is ``internal_error`` (500), ``not_implemented`` (501),
    ``bad_gateway`` (502), ``service_unavailable`` (503), ``gateway_timeout``
    (504), else ``server_error``.
``retryAfterS``
    Number >= 0, or null for no header (default 1): the ``Retry-After`` of the
    ``errorRate`` answers. Whole numbers are sent as delay-seconds (``1``); a
    fraction is sent as written (``0.5``), which RFC 9110 does not allow but
    servers in the wild do.
``tokenTtlS``
    Lifetime in seconds of tokens issued from now on (default 8 h; fractions
    allowed). An expired token gets 401 ``unauthorized``.
``maxConcurrentPerToken``
    More simultaneous content downloads than this on one token get 429
    ``rate_limited`` with ``Retry-After: 1``. 0 or null: no cap. A download
    counts while its body is being sent; on loopback a small body leaves in
    one write, so to see 429s reliably combine this with ``bandwidthBps``.
    HEAD requests do not count.
``rateLimitRetryAfterS``
    Number >= 0, or null for no header (default 1): the ``Retry-After`` of the
    ``maxConcurrentPerToken`` 429s, rendered like ``retryAfterS``.
``weakEtags``
    true/false (default false; null is false): content answers (GET and HEAD) carry
    ``ETag: W/"<the strong ETag's inner value>"``. Per RFC 9110 13.1.5 a weak
    validator never matches ``If-Range``: ``Range`` + ``If-Range`` answers 200
    with the whole body (whatever ``If-Range`` says); ``Range`` alone answers
    206 as usual.
``trickleIntervalS``
    Number > 0, or null for off: content bodies are sent one byte per write
    with this many seconds between bytes (per response; the first byte leaves
    with the headers). ``Content-Length`` still announces the full size. The
    waits are asyncio sleeps, so other requests are served meanwhile. Combines
    with ``bandwidthBps`` (the later of the two due times wins) and ``dropRate``.
``contentEncoding``
    ``"gzip"`` or null: content answers are gzip-compressed (in memory; meant
    for small files) and carry ``Content-Encoding: gzip`` and the compressed
    ``Content-Length``, whatever ``Accept-Encoding`` said -- a misbehaving
    proxy. It compresses the body the server produced (a 206's range
    included) and leaves the other headers (``ETag``, ``Repr-Digest``,
    ``Content-Range``) as they were. HEAD answers the same headers.
``redirectContent``
    An absolute ``http``/``https`` URL, or null: every content request (GET
    and HEAD) answers ``302 Found`` with ``Location: <that URL>`` and an empty
    body, before the token or the file is checked -- like a login proxy.
    ``latencyMs`` and ``errorRate`` still apply first.
``htmlContent``
    true/false (null = false): every content request answers ``200 OK`` with
    a small HTML sign-in page (``text/html``), before the token is checked --
    a proxy whose own login ran out.
``errorFiles``
    A list of file ids (or null = none): their content requests always get the
    ``errorStatus`` answer (with ``retryAfterS``), other files are served: one
    broken file on a healthy server.
``failOnce``
    true/false (null = false): every distinct ``/api/v1`` request other than
    ``/api/v1/auth/*`` (the same method, path and query string) gets the
    ``errorStatus`` answer (with ``retryAfterS``) the first time the server
    sees it, and is served normally from then on -- a flaky server on which
    one retry of every request succeeds. Setting the knob (to any value)
    and ``reset`` forget which requests were seen.
``cursorLoop``
    ``"repeat"``, ``"empty"`` or null: paginated listings (``/api/v1/projects``
    and ``.../children``) never end. ``"repeat"``: every page's ``nextCursor``
    is ``"loop-repeat"``, and a request with that cursor gets the first page
    again (a cursor that never advances). ``"empty"``: the real pages are
    served, but the last one carries a cursor ``"loop-empty-<n>"`` and a
    request with such a cursor gets no items and a fresh one (``n`` counts
    up): endless empty pages. Those cursors are only understood while the
    knob is on (400 ``bad_request`` otherwise, like any unknown cursor).

While ``bandwidthBps``, ``dropRate``, ``trickleIntervalS`` or
``contentEncoding`` is on, bodies are written by Python in chunks. Otherwise
bodies up to 64 KiB leave in one write together with the headers (cheaper
than sendfile for them), and bigger ones with zero-copy ``loop.sendfile``
from the pack file (TLS cannot sendfile: chunks again).
"""

from __future__ import annotations

from .demo import DEMO_ACCOUNTS, DemoAccount, DemoFacts, DemoSpec, ProjectFacts
from .faults import Faults
from .runner import (
    ReferenceServer,
    ServerConfigError,
    ServerHandle,
    is_loopback,
    serve,
    start_in_thread,
)

__all__ = [
    "DEMO_ACCOUNTS",
    "DemoAccount",
    "DemoFacts",
    "DemoSpec",
    "Faults",
    "ProjectFacts",
    "ReferenceServer",
    "ServerConfigError",
    "ServerHandle",
    "is_loopback",
    "serve",
    "start_in_thread",
]
