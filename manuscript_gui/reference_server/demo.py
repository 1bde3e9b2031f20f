"""Deterministic demo data: accounts, audit projects, a working-paper index, bytes.

The same :class:`DemoSpec` always yields the same ids, names, sizes and bytes
(so the same sha256), on any machine. The spec's fingerprint is kept in the
data directory: a restart with an unchanged spec reuses the data (with any admin
changes made since); a changed spec throws the demo projects away and generates
them again, leaving admin-created projects in place.

Content comes from SHAKE-128 keyed by (seed, file, version, block): it is
pseudo-random (sha256 checks mean something), about 400 MB/s on one core, and
each file's bytes can be produced without producing any other file's first.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from .model import content_type_for, rfc3339
from .packs import PackWriter
from .store import AccessRow, FileRow, FolderRow, ProjectRow, Store, VersionRow

#: Bump when the generator's output changes, so old data dirs regenerate.
GENERATOR_VERSION = 2

_BLOCK = 4 << 20
_EPOCH = datetime(2026, 1, 5, 8, 0, 0, tzinfo=UTC).timestamp()
_SIGNATURES = {
    ".xlsx": b"PK\x03\x04",
    ".docx": b"PK\x03\x04",
    ".zip": b"PK\x03\x04",
    ".pdf": b"%PDF-1.7\n",
    ".jpg": b"\xff\xd8\xff\xe0",
}


@dataclass(frozen=True)
class DemoAccount:
    """A demo login. The first identity is the user's default one."""

    username: str
    password: str
    name: str
    identities: tuple[tuple[str, str], ...]  # (userType, label)

    @property
    def user_id(self) -> str:
        return f"u-{self.username}"

    @property
    def default_user_type(self) -> str:
        return self.identities[0][0]


#: Always present in every data directory (with or without demo projects).
DEMO_ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount("demo", "demo", "演示用户", (("auditor", "审计员"), ("manager", "项目经理"))),
    DemoAccount("lisi", "lisi", "李四", (("auditor", "审计员"),)),
    DemoAccount("wangwu", "wangwu", "王五", (("qc", "质控复核人"), ("partner", "签字合伙人"))),
)


@dataclass(frozen=True)
class DemoSpec:
    """What demo data to generate. Every field is part of the fingerprint.

    Sizes are drawn log-uniformly between ``min_size`` and ``max_size`` (many
    small papers, a few big ones, like a real engagement).
    ``large_project_files`` > 0 adds a group-audit project of that many files
    (3000+ for the "big task" case, 100k for scale tests);
    ``wide_folder_children`` > 0 adds one folder with that many direct children
    (pagination tests); ``big_file_size`` > 0 adds one file of that many bytes
    (throughput benchmarks).
    """

    seed: int = 20260105
    files_per_project: int = 40
    min_size: int = 1024
    max_size: int = 256 * 1024
    large_project_files: int = 3000
    wide_folder_children: int = 0
    big_file_size: int = 0

    def __post_init__(self) -> None:
        for name in (
            "files_per_project",
            "min_size",
            "max_size",
            "large_project_files",
            "wide_folder_children",
            "big_file_size",
        ):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"DemoSpec.{name} must be an integer >= 0, got {value!r}")
        if self.min_size > self.max_size:
            raise ValueError(
                f"DemoSpec.min_size ({self.min_size}) is larger than max_size ({self.max_size})"
            )

    def fingerprint(self) -> str:
        blob = json.dumps({"generator": GENERATOR_VERSION, **asdict(self)}, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()


@dataclass(frozen=True)
class _ProjectTemplate:
    client: str
    period: str
    kind: str
    code: str
    visible_to: tuple[tuple[str, str], ...]  # (username, userType)


_PROJECTS: tuple[_ProjectTemplate, ...] = (
    _ProjectTemplate(
        "上海某某科技股份有限公司",
        "2025年度",
        "财务报表审计",
        "SH-2025-001",
        (("demo", "auditor"), ("lisi", "auditor"), ("wangwu", "qc"), ("wangwu", "partner")),
    ),
    _ProjectTemplate(
        "北京某某贸易有限公司",
        "2025年度",
        "财务报表审计",
        "BJ-2025-014",
        (("demo", "auditor"), ("demo", "manager"), ("wangwu", "qc")),
    ),
    _ProjectTemplate(
        "深圳某某电子股份有限公司",
        "2025年度",
        "内部控制审计",
        "SZ-2025-007",
        (("demo", "auditor"), ("demo", "manager"), ("wangwu", "qc")),
    ),
    _ProjectTemplate(
        "杭州某某医药集团有限公司",
        "2025年度",
        "合并财务报表审计",
        "HZ-2025-003",
        (("demo", "manager"), ("wangwu", "qc"), ("wangwu", "partner")),
    ),
    _ProjectTemplate(
        "广州某某物流有限公司",
        "2024年度",
        "财务报表审计",
        "GZ-2024-021",
        (("demo", "manager"), ("lisi", "auditor"), ("wangwu", "qc")),
    ),
)

_LARGE_PROJECT = _ProjectTemplate(
    "某某控股集团股份有限公司",
    "2025年度",
    "合并财务报表审计",
    "GROUP-2025-001",
    (("demo", "auditor"), ("demo", "manager"), ("wangwu", "qc")),
)

_SUBSTANTIVE = "D 实质性程序"

# (folder path, file names) in index order: the working-paper index of a
# typical annual audit under the Chinese auditing standards.
_INDEX: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (
        ("A 业务承接",),
        (
            "A1 业务承接评价表.docx",
            "A2 审计业务约定书.pdf",
            "A3 独立性声明.docx",
            "A4 与前任注册会计师沟通记录.docx",
        ),
    ),
    (
        ("B 风险评估",),
        (
            "B1 了解被审计单位及其环境.docx",
            "B2 了解内部控制设计与执行.docx",
            "B3 重要性水平确定表.xlsx",
            "B4 风险评估汇总表.xlsx",
            "B5 项目组讨论纪要.docx",
        ),
    ),
    (
        ("C 控制测试",),
        (
            "C1 销售与收款循环控制测试.xlsx",
            "C2 采购与付款循环控制测试.xlsx",
            "C3 生产与存货循环控制测试.xlsx",
            "C4 货币资金循环控制测试.xlsx",
            "C5 固定资产循环控制测试.xlsx",
            "C6 控制测试汇总表.xlsx",
        ),
    ),
    (
        (_SUBSTANTIVE, "D1 货币资金"),
        (
            "D1-1 货币资金审定表.xlsx",
            "D1-2 银行存款明细表.xlsx",
            "D1-3 银行询证函.pdf",
            "D1-4 库存现金监盘表.xlsx",
            "D1-5 银行对账单及余额调节表.pdf",
        ),
    ),
    ((_SUBSTANTIVE, "D2 应收票据"), ("D2-1 应收票据审定表.xlsx", "D2-2 应收票据备查簿核对表.xlsx")),
    (
        (_SUBSTANTIVE, "D3 应收账款"),
        (
            "D3-1 应收账款审定表.xlsx",
            "D3-2 应收账款明细表.xlsx",
            "D3-3 账龄分析表.xlsx",
            "D3-4 坏账准备计算表.xlsx",
        ),
    ),
    ((_SUBSTANTIVE, "D4 预付款项"), ("D4-1 预付款项审定表.xlsx",)),
    ((_SUBSTANTIVE, "D5 其他应收款"), ("D5-1 其他应收款审定表.xlsx",)),
    (
        (_SUBSTANTIVE, "D6 存货"),
        (
            "D6-1 存货审定表.xlsx",
            "D6-2 存货监盘表.xlsx",
            "D6-3 存货跌价准备测试表.xlsx",
            "D6-4 存货监盘照片.jpg",
        ),
    ),
    (
        (_SUBSTANTIVE, "D7 固定资产"),
        ("D7-1 固定资产审定表.xlsx", "D7-2 折旧测算表.xlsx", "D7-3 固定资产盘点表.xlsx"),
    ),
    ((_SUBSTANTIVE, "D8 无形资产"), ("D8-1 无形资产审定表.xlsx",)),
    ((_SUBSTANTIVE, "D9 应付账款"), ("D9-1 应付账款审定表.xlsx", "D9-2 应付账款询证函.pdf")),
    ((_SUBSTANTIVE, "D10 应付职工薪酬"), ("D10-1 应付职工薪酬审定表.xlsx",)),
    ((_SUBSTANTIVE, "D11 应交税费"), ("D11-1 应交税费审定表.xlsx", "D11-2 纳税申报表.pdf")),
    (
        (_SUBSTANTIVE, "D12 营业收入"),
        ("D12-1 营业收入审定表.xlsx", "D12-2 收入截止测试表.xlsx", "D12-3 销售合同.pdf"),
    ),
    ((_SUBSTANTIVE, "D13 营业成本"), ("D13-1 营业成本审定表.xlsx", "D13-2 成本倒轧表.xlsx")),
    ((_SUBSTANTIVE, "D14 销售费用"), ("D14-1 销售费用审定表.xlsx",)),
    ((_SUBSTANTIVE, "D15 管理费用"), ("D15-1 管理费用审定表.xlsx",)),
    ((_SUBSTANTIVE, "D16 所得税费用"), ("D16-1 所得税费用审定表.xlsx",)),
    (
        ("E 完成阶段",),
        (
            "E1 审计差异调整汇总表.xlsx",
            "E2 试算平衡表.xlsx",
            "E3 管理层声明书.pdf",
            "E4 审计报告.docx",
            "E5 审计总结.docx",
            "E6 项目质量复核记录.docx",
        ),
    ),
)
_TOP_LEVEL = ("A 业务承接", "B 风险评估", "C 控制测试", _SUBSTANTIVE, "E 完成阶段")
_BASE_FILES: tuple[tuple[tuple[str, ...], str], ...] = tuple(
    (path, name) for path, names in _INDEX for name in names
)
_VOUCHER_AREAS: tuple[tuple[str, ...], ...] = tuple(
    path for path, _ in _INDEX if path[0] == _SUBSTANTIVE
)
_WIDE_FOLDER = (_SUBSTANTIVE, "D3 应收账款", "D3-5 询证函回函")
_BIG_FILE = (("E 完成阶段", "E9 电子档案"), "E9-1 审计档案归档包.zip")


def _papers(count: int, year: str) -> Iterator[tuple[tuple[str, ...], str]]:
    """``count`` (folder path, file name) pairs for one project.

    Fewer than the base index: an even sample across it (so even a tiny demo
    has nested folders). More: the whole index, then vouchers sampled in the
    substantive areas, filed by month, like a big engagement's archive.
    """
    base = len(_BASE_FILES)
    if count <= base:
        for i in range(count):
            yield _BASE_FILES[i * base // count]
        return
    yield from _BASE_FILES
    for n in range(count - base):
        area = _VOUCHER_AREAS[n % len(_VOUCHER_AREAS)]
        month = (n // len(_VOUCHER_AREAS)) % 12 + 1
        code = area[1].split(" ", 1)[0]
        folder = (*area, f"{code}-9 凭证抽查", f"{year}年{month:02d}月")
        yield folder, f"记-{n + 1:06d} 记账凭证及附件.pdf"


def _blocks(seed: int, key: str, size: int, name: str) -> Iterator[bytes]:
    """The bytes of one version, in blocks of at most 4 MiB."""
    sig = _SIGNATURES.get(name[name.rfind(".") :].lower(), b"") if "." in name else b""
    block = 0
    left = size
    while left > 0:
        n = min(left, _BLOCK)
        data = hashlib.shake_128(f"{seed}:{key}:{block}".encode()).digest(n)
        if block == 0 and sig and n >= len(sig):
            data = sig + data[len(sig) :]
        yield data
        left -= n
        block += 1


class _Generator:
    """Builds the rows and writes the bytes; one instance per generation."""

    def __init__(self, spec: DemoSpec, writer: PackWriter) -> None:
        self.spec = spec
        self.writer = writer
        self.rng = random.Random(spec.seed)
        self.projects: list[ProjectRow] = []
        self.folders: list[FolderRow] = []
        self.files: list[FileRow] = []
        self.versions: list[VersionRow] = []
        self.access: list[AccessRow] = []
        self.meta: dict[str, str] = {}
        self._folder_ids: dict[tuple[str, tuple[str, ...]], str] = {}
        self._n_project = 0
        self._n_folder = 0
        self._n_file = 0
        lo = math.log(spec.min_size + 1)
        hi = math.log(spec.max_size + 1)
        self._log_lo, self._log_span = lo, hi - lo

    def _when(self) -> str:
        # Spread over the eight weeks of fieldwork after the epoch.
        return rfc3339(_EPOCH + self.rng.randrange(0, 56 * 86400))

    def _size(self) -> int:
        size = int(math.exp(self._log_lo + self.rng.random() * self._log_span)) - 1
        return max(self.spec.min_size, min(self.spec.max_size, size))

    def project(self, tpl: _ProjectTemplate, *, large: bool = False) -> str:
        self._n_project += 1
        pid = f"prj-{self._n_project}"
        name = f"{tpl.client}{tpl.period}{tpl.kind}"
        self.projects.append((pid, name, tpl.code, tpl.client, tpl.period, self._when()))
        for username, utype in tpl.visible_to:
            self.access.append((f"u-{username}", utype, pid))
        for top in _TOP_LEVEL:
            self.folder(pid, (top,))
        year = tpl.period[:4]
        count = self.spec.large_project_files if large else self.spec.files_per_project
        for path, name in _papers(count, year):
            self.file(pid, path, name, self._size())
        return pid

    def folder(self, pid: str, path: tuple[str, ...]) -> str | None:
        if not path:
            return None
        key = (pid, path)
        fid = self._folder_ids.get(key)
        if fid is None:
            parent = self.folder(pid, path[:-1])
            self._n_folder += 1
            fid = f"fld-{self._n_folder}"
            self._folder_ids[key] = fid
            self.folders.append((fid, pid, parent, path[-1], self._when()))
        return fid

    def file(self, pid: str, path: tuple[str, ...], name: str, size: int) -> str:
        self._n_file += 1
        fid = f"fil-{self._n_file}"
        folder_id = self.folder(pid, path)
        # About one paper in ten was revised once: version 1 stays downloadable.
        count = 2 if self.rng.random() < 0.1 else 1
        created = sorted(self._when() for _ in range(count))
        for v in range(1, count + 1):
            vsize = size if v == count else self._size()
            self._version(fid, v, vsize, name, created[v - 1])
        self.files.append((fid, pid, folder_id, name, content_type_for(name), count, created[-1]))
        return fid

    def _version(self, fid: str, version: int, size: int, name: str, created: str) -> None:
        digest = hashlib.sha256()

        def chunks() -> Iterator[bytes]:
            for block in _blocks(self.spec.seed, f"{fid}/{version}", size, name):
                digest.update(block)
                yield block

        pack, offset = self.writer.append_chunks(chunks(), size)
        self.versions.append((fid, version, size, digest.hexdigest(), pack, offset, created))

    def run(self) -> None:
        spec = self.spec
        first = ""
        for i, tpl in enumerate(_PROJECTS):
            pid = self.project(tpl)
            if i == 0:
                first = pid
        if spec.large_project_files > 0:
            self.meta["demo_large_project"] = self.project(_LARGE_PROJECT, large=True)
        if spec.wide_folder_children > 0:
            self.meta["demo_wide_folder"] = self.folder(first, _WIDE_FOLDER) or ""
            for i in range(1, spec.wide_folder_children + 1):
                name = f"D3-5-{i:04d} 应收账款询证函回函（客户{i:04d}）.pdf"
                self.file(first, _WIDE_FOLDER, name, self._size())
        if spec.big_file_size > 0:
            path, name = _BIG_FILE
            self._n_file += 1
            fid = f"fil-{self._n_file}"
            folder_id = self.folder(first, path)
            when = self._when()
            self._version(fid, 1, spec.big_file_size, name, when)
            self.files.append((fid, first, folder_id, name, content_type_for(name), 1, when))
            self.meta["demo_big_file"] = fid


def prepare_store(store: Store, demo: DemoSpec | None) -> bool:
    """Create the accounts, and (re)generate the demo when its spec changed.

    Returns True when demo data was generated now. ``demo=None`` leaves the
    data directory's projects as they are.
    """
    store.ensure_accounts(
        (a.user_id, a.username, a.password, a.name, list(a.identities)) for a in DEMO_ACCOUNTS
    )
    if demo is None or store.meta_get("demo_fingerprint") == demo.fingerprint():
        return False
    # Forget the old fingerprint first: if generation dies half-way, the next
    # start must regenerate rather than trust rows whose packs are gone.
    store.meta_set("demo_fingerprint", "")
    store.packs.remove_prefix("demo")
    writer = store.packs.writer("demo")
    try:
        gen = _Generator(demo, writer)
        gen.run()
    finally:
        writer.close()
    store.replace_demo(
        demo.fingerprint(), gen.projects, gen.folders, gen.files, gen.versions, gen.access
    )
    for key in ("demo_large_project", "demo_wide_folder", "demo_big_file"):
        store.meta_set(key, gen.meta.get(key, ""))
    return True


@dataclass(frozen=True)
class ProjectFacts:
    """What tests usually want to know about one project."""

    id: str
    name: str
    code: str | None
    origin: str
    files: int  # live (not deleted) files anywhere in the project


@dataclass(frozen=True)
class DemoFacts:
    """A snapshot of who sees what, for tests, benchmarks and the start banner.

    Built from the store, so it is true for reused data directories too.
    """

    accounts: tuple[DemoAccount, ...]
    visible: Mapping[tuple[str, str], tuple[str, ...]]
    projects: Mapping[str, ProjectFacts]
    large_project_id: str | None = None
    wide_folder_id: str | None = None
    wide_folder_project_id: str | None = None
    wide_folder_children: int = 0
    big_file_id: str | None = None

    def projects_for(self, username: str, user_type: str | None = None) -> tuple[str, ...]:
        """Project ids visible to ``username`` under ``user_type`` (default identity if None)."""
        if user_type is None:
            user_type = next(a for a in self.accounts if a.username == username).default_user_type
        return self.visible.get((username, user_type), ())

    def to_json(self) -> dict[str, Any]:
        return {
            "accounts": [
                {
                    "username": a.username,
                    "password": a.password,
                    "name": a.name,
                    "identities": [{"userType": t, "label": lab} for t, lab in a.identities],
                    "defaultUserType": a.default_user_type,
                }
                for a in self.accounts
            ],
            "visible": [
                {"username": u, "userType": t, "projectIds": list(ids)}
                for (u, t), ids in sorted(self.visible.items())
            ],
            "projects": [
                {"id": p.id, "name": p.name, "code": p.code, "origin": p.origin, "files": p.files}
                for p in self.projects.values()
            ],
            "largeProjectId": self.large_project_id,
            "wideFolder": None
            if self.wide_folder_id is None
            else {
                "id": self.wide_folder_id,
                "projectId": self.wide_folder_project_id,
                "children": self.wide_folder_children,
            },
            "bigFileId": self.big_file_id,
        }


def describe(store: Store) -> DemoFacts:
    """Build :class:`DemoFacts` from the store's current state."""
    counts: dict[str, int] = {}
    for entry in store.files.values():
        if not entry.deleted:
            counts[entry.project_id] = counts.get(entry.project_id, 0) + 1

    def order(pid: str) -> tuple[int, str]:
        # Demo ids are prj-1, prj-2…: keep their natural order in listings.
        tail = pid.rsplit("-", 1)[-1]
        return (int(tail), pid) if tail.isdigit() else (1 << 30, pid)

    projects = {
        pid: ProjectFacts(pid, p.name, p.code, p.origin, counts.get(pid, 0))
        for pid, p in sorted(store.projects.items(), key=lambda kv: order(kv[0]))
    }
    visible: dict[tuple[str, str], tuple[str, ...]] = {}
    for account in DEMO_ACCOUNTS:
        user = store.users_by_name.get(account.username)
        if user is None:
            continue
        for ident in user.identities:
            ids = store.access.get((user.id, ident.user_type), set())
            visible[(account.username, ident.user_type)] = tuple(
                sorted((p for p in ids if p in store.projects), key=order)
            )

    def meta(key: str) -> str | None:
        return store.meta_get(key) or None

    wide = meta("demo_wide_folder")
    wide_folder = store.folders.get(wide) if wide else None
    large = meta("demo_large_project")
    big = meta("demo_big_file")
    return DemoFacts(
        accounts=DEMO_ACCOUNTS,
        visible=visible,
        projects=projects,
        large_project_id=large if large in store.projects else None,
        wide_folder_id=wide_folder.id if wide_folder else None,
        wide_folder_project_id=wide_folder.project_id if wide_folder else None,
        wide_folder_children=len(store.children_of(wide_folder.project_id, wide_folder.id))
        if wide_folder
        else 0,
        big_file_id=big if big in store.files else None,
    )
