"""The TA model: app.conf, knowledge-object confs, lookups and README, loaded and written.

``load_ta`` reads any add-on (ours, a knowledge document, a Splunk engineer's fixture) leniently,
layering ``local/`` over ``default/`` as splunkd does. ``write_ta`` writes only what AppInspect's
cloud precert accepts: semver version, package id = folder = ``[id] name``, no ``local/``,
read for everyone and write for admin and sc_admin.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath

from engine.conf.parse import ConfFile, Stanza, parse_conf, render_conf

_PRERELEASE_ID = r"(?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*)"
SEMVER = re.compile(  # Semantic Versioning 2.0.0, as AppInspect checks it
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    rf"(?:-{_PRERELEASE_ID}(?:\.{_PRERELEASE_ID})*)?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$"
)
APP_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,79}(?<!\.)$")
# Names an app id must not take: Windows device names (the folder could not exist there) and
# apps that ship with Splunk Enterprise (installing ours would replace them).
RESERVED_APP_IDS = frozenset(
    {f"com{n}" for n in range(1, 10)}
    | {f"lpt{n}" for n in range(1, 10)}
    | {"con", "prn", "aux", "nul", "launcher", "search", "learned", "legacy", "sample_app"}
    | {"splunk_httpinput", "splunkforwarder", "splunklightforwarder", "framework"}
    | {"splunk_monitoring_console", "splunk_instrumentation", "splunk_internal_metrics"}
    | {"splunk_metrics_workspace", "introspection_generator_addon", "alert_logevent"}
    | {"alert_webhook", "appsbrowser", "splunk_archiver", "splunk_secure_gateway"}
)
CONF_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
# Files that never belong in a Splunk app (AppInspect: prohibited or OS/editor droppings).
PROHIBITED_NAMES = frozenset({".DS_Store", "Thumbs.db", "desktop.ini", "__MACOSX", "__pycache__"})
PROHIBITED_SUFFIXES = (".pyc", ".pyo", ".swp", "~")
DEFAULT_META = """\
[]
access = read : [ * ], write : [ admin, sc_admin ]
export = system
"""
FILE_MODE = 0o644
DIR_MODE = 0o755
# What a TA may hold, folder or archive: an add-on is configuration, lookups and a few assets.
MAX_TOTAL_BYTES = 200 * 1024 * 1024
MAX_FILES = 5_000
MAX_MEMBER_BYTES = 50 * 1024 * 1024
# Configuration files Splunk defines (Admin Manual, "List of configuration files"). Any other
# .conf an app ships is custom: it needs an app.conf [triggers] reload entry and server.conf
# [shclustering] replication (AppInspect cloud).
SPLUNK_CONFS = frozenset(
    """alert_actions app audit authentication authorize bookmarks checklist collections commands
    datamodels datatypesbnf default-mode deployment deploymentclient distsearch event_renderers
    eventdiscoverer eventtypes federated fields global-banner health indexes inputs limits
    literals macros messages metric_alerts metric_rollups multikv outputs passwords
    procmon-filters props pubsub restmap savedsearches searchbnf segmenters server serverclass
    source-classifier sourcetypes splunk-launch tags telemetry times transactiontypes transforms
    ui-prefs ui-tour user-prefs user-seed viewstates visualizations web-features web wmi
    workflow_actions workload_policy workload_pools workload_rules""".split()  # noqa: SIM905
)


class InvalidTAError(ValueError):
    """A directory or model that is not a valid Splunk add-on."""


def is_junk(relative: PurePosixPath) -> bool:
    """Whether an app-relative path is an OS or editor dropping (.DS_Store, *.pyc, ...)."""
    return any(
        part in PROHIBITED_NAMES or part.endswith(PROHIBITED_SUFFIXES) or part.startswith("._")
        for part in relative.parts
    )


def is_prohibited(relative: PurePosixPath) -> bool:
    """Whether a path inside an app is a file a shipped Splunk app must not hold."""
    return is_junk(relative) or relative.parts[:1] == ("local",)


def validate_version(version: str) -> str:
    """Return ``version`` if it is semantic versioning (AppInspect rejects ``1.0``)."""
    if not SEMVER.match(version):
        raise InvalidTAError(f"app version {version!r} is not semantic versioning (e.g. 1.0.0)")
    return version


def validate_app_id(app_id: str) -> str:
    """Return ``app_id`` if Splunk accepts it as a package id and folder name."""
    if not APP_ID.match(app_id):
        raise InvalidTAError(
            f"app id {app_id!r} must start with a letter, hold only letters, digits, "
            "'_', '.', '-' (at most 80 characters) and not end with '.'"
        )
    if app_id.lower() in RESERVED_APP_IDS:
        raise InvalidTAError(f"app id {app_id!r} is reserved (a device name or a Splunk app)")
    return app_id


def _flag(value: bool) -> str:
    return "true" if value else "false"


@dataclass(frozen=True)
class AppConf:
    """The typed part of app.conf; other settings of a loaded app.conf are kept beside it."""

    app_id: str
    version: str
    label: str
    description: str = ""
    author: str = ""
    build: int = 1
    is_visible: bool = False
    is_configured: bool = False
    state: str = "enabled"
    check_for_updates: bool = False

    def validate(self) -> AppConf:
        validate_app_id(self.app_id)
        validate_version(self.version)
        if self.build < 1:
            raise InvalidTAError(f"app build {self.build} must be a positive integer")
        if self.state not in ("enabled", "disabled"):
            raise InvalidTAError(f"app state {self.state!r} must be enabled or disabled")
        if not self.label.strip():
            raise InvalidTAError("app label is empty")
        return self

    def settings(self) -> dict[str, dict[str, str]]:
        """The stanzas and keys this model owns, as app.conf text values."""
        launcher = {"author": self.author, "description": self.description}
        return {
            "install": {
                "is_configured": _flag(self.is_configured),
                "state": self.state,
                "build": str(self.build),
            },
            "launcher": {k: v for k, v in launcher.items() if v} | {"version": self.version},
            "ui": {"is_visible": _flag(self.is_visible), "label": self.label},
            "package": {
                "id": self.app_id,
                "check_for_updates": _flag(self.check_for_updates),
            },
            "id": {"name": self.app_id, "version": self.version},
        }

    def to_conf(
        self, base: ConfFile | None = None, *, custom_confs: Iterable[str] = ()
    ) -> ConfFile:
        """app.conf: ``base``'s other settings kept, the typed ones set from this model, and a
        reload trigger for each of ``custom_confs`` (so a change needs no restart)."""
        conf = ConfFile(path="default/app.conf")
        if base is not None:
            for stanza in base.stanzas.values():
                conf.stanzas[stanza.name] = Stanza(stanza.name, dict(stanza.settings))
        for stanza_name, values in self.settings().items():
            for key, value in values.items():
                conf.set(stanza_name, key, " ".join(value.split()))
        for name in custom_confs:
            if f"reload.{name}" not in conf.get("triggers"):
                conf.set("triggers", f"reload.{name}", "simple")
        return conf


def _truthy(value: str, default: bool) -> bool:
    lowered = value.strip().lower()
    if lowered in ("1", "true", "t", "yes", "y", "on"):
        return True
    if lowered in ("0", "false", "f", "no", "n", "off"):
        return False
    return default


def _build_number(value: str) -> int:
    return int(value) if value.strip().isdigit() and int(value) > 0 else 1


def app_conf_from(conf: ConfFile, *, folder: str) -> AppConf:
    """Read the typed settings of ``conf`` leniently (a missing value falls back sensibly)."""
    package, ident, launcher = conf.get("package"), conf.get("id"), conf.get("launcher")
    install, ui = conf.get("install"), conf.get("ui")
    app_id = package.get("id") or ident.get("name") or folder
    return AppConf(
        app_id=app_id,
        version=ident.get("version") or launcher.get("version", ""),
        label=ui.get("label") or app_id,
        description=launcher.get("description", ""),
        author=launcher.get("author", ""),
        build=_build_number(install.get("build", "1")),
        is_visible=_truthy(ui.get("is_visible", "false"), False),
        is_configured=_truthy(install.get("is_configured", "false"), False),
        state=install.get("state", "enabled"),
        check_for_updates=_truthy(package.get("check_for_updates", "false"), False),
    )


@dataclass
class TA:
    """A Splunk Technology Add-on held in memory.

    ``confs`` maps a conf name (``props``, ``transforms``, ...) to its parsed file; the typed
    app.conf fields win over the same keys in ``confs['app']``. ``extra_files`` maps app-relative
    POSIX paths (``samples/x.log``, ``static/appIcon.png``) to their bytes.
    """

    app_id: str
    version: str
    label: str = ""
    description: str = ""
    author: str = ""
    confs: dict[str, ConfFile] = field(default_factory=dict)
    lookups: dict[str, bytes] = field(default_factory=dict)
    readme: str = ""
    extra_files: dict[str, bytes] = field(default_factory=dict)
    build: int = 1

    def conf(self, name: str) -> ConfFile:
        """The conf called ``name``, created empty on first use so callers can add to it."""
        return self.confs.setdefault(name, ConfFile(path=f"default/{name}.conf"))

    @property
    def props(self) -> ConfFile:
        return self.conf("props")

    @property
    def transforms(self) -> ConfFile:
        return self.conf("transforms")

    @property
    def eventtypes(self) -> ConfFile:
        return self.conf("eventtypes")

    @property
    def tags(self) -> ConfFile:
        return self.conf("tags")

    @property
    def fields(self) -> ConfFile:
        return self.conf("fields")

    @property
    def app(self) -> AppConf:
        """The typed app.conf of this TA (other app.conf settings stay in ``confs['app']``)."""
        loaded = self.confs.get("app")
        base = app_conf_from(loaded, folder=self.app_id) if loaded else AppConf("", "", "")
        return replace(
            base,
            app_id=self.app_id,
            version=self.version,
            label=self.label or self.app_id,
            description=self.description,
            author=self.author,
            build=self.build,
        )


def _read_bytes(path: Path, relative: str, limit: int) -> bytes:
    """A file's bytes, refusing anything but a regular file of at most ``limit`` bytes.

    O_NONBLOCK and fstat on the descriptor: a FIFO swapped in after the walk is refused, not
    waited on, and a file that grew since is cut off at the limit rather than read whole.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0))
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise InvalidTAError(f"{relative}: only regular files and folders are allowed")
        os.set_blocking(fd, True)
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise InvalidTAError(f"{relative}: more than the {limit} byte limit for one file")
    return data


def _read_text(path: Path, relative: str, limit: int) -> str:
    data = _read_bytes(path, relative, limit)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidTAError(
            f"{relative}: not UTF-8 text ({exc.reason} at byte {exc.start})"
        ) from exc


def _layer(base: ConfFile, top: ConfFile) -> None:
    """Overlay ``top`` (local/) on ``base`` (default/), key by key, as splunkd merges layers;
    each overriding key remembers its file and line for file:line reports."""
    for stanza in top.stanzas.values():
        target = base.stanzas.get(stanza.name)
        if target is None:
            target = base.stanzas[stanza.name] = Stanza(
                stanza.name, line=stanza.line, path=top.path
            )
        for key, value in stanza.settings.items():
            target.settings[key] = value
            target.key_lines[key] = stanza.key_lines.get(key, 0)
            target.key_paths[key] = top.path


@dataclass(frozen=True)
class TaLimits:
    """How much of a TA folder is read into memory: the limits of archives (engine.packaging)."""

    max_total_bytes: int = MAX_TOTAL_BYTES
    max_files: int = MAX_FILES
    max_file_bytes: int = MAX_MEMBER_BYTES


def _walk_files(root: Path, limits: TaLimits) -> list[PurePosixPath]:
    """The files under ``root``, after refusing links, special files and what exceeds ``limits``
    (from the sizes the file system reports, before a byte is read)."""
    out: list[PurePosixPath] = []
    total = entries = 0
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(dirnames + filenames):
            path = Path(dirpath) / name
            relative = path.relative_to(root)
            info = path.lstat()
            if stat.S_ISLNK(info.st_mode):
                raise InvalidTAError(f"{relative}: symbolic links are not allowed")
            if not stat.S_ISREG(info.st_mode) and not stat.S_ISDIR(info.st_mode):
                raise InvalidTAError(
                    f"{relative}: only regular files and folders are allowed "
                    "(a FIFO, socket or device)"
                )
            entries += 1
            if entries > limits.max_files:
                raise InvalidTAError(f"the TA holds more than {limits.max_files} files and folders")
            if stat.S_ISREG(info.st_mode):
                if info.st_size > limits.max_file_bytes:
                    raise InvalidTAError(
                        f"{relative}: {info.st_size} bytes exceeds the "
                        f"{limits.max_file_bytes} byte limit for one file"
                    )
                total += info.st_size
                if total > limits.max_total_bytes:
                    raise InvalidTAError(
                        f"the TA holds more than {limits.max_total_bytes} bytes of files"
                    )
        for name in sorted(filenames):
            out.append(PurePosixPath((Path(dirpath) / name).relative_to(root).as_posix()))
    return out


def load_ta(path: Path, *, limits: TaLimits | None = None) -> TA:
    """Read the add-on in directory ``path`` (local/ settings layered over default/).

    Only regular files and folders are read, within ``limits`` (those of archives by default),
    so a FIFO cannot hang the reader and a huge file cannot exhaust memory.
    """
    if not path.is_dir():
        raise InvalidTAError(f"{path}: not a directory")
    limits = limits or TaLimits()
    confs: dict[str, ConfFile] = {}
    lookups: dict[str, bytes] = {}
    extra: dict[str, bytes] = {}
    readme = ""
    for relative in _walk_files(path, limits):
        parts = relative.parts
        file = path / relative
        if len(parts) == 2 and parts[0] in ("default", "local") and relative.suffix == ".conf":
            continue  # read below, default/ first
        if is_prohibited(relative):
            continue  # OS droppings and the rest of local/ are not part of the add-on
        if parts[0] == "lookups" and len(parts) == 2:
            lookups[parts[1]] = _read_bytes(file, str(relative), limits.max_file_bytes)
        elif relative == PurePosixPath("README.md"):
            readme = _read_text(file, str(relative), limits.max_file_bytes)
        elif parts[0] == "metadata" or relative == PurePosixPath("app.manifest"):
            continue  # write_ta generates these from the model
        else:
            extra[str(relative)] = _read_bytes(file, str(relative), limits.max_file_bytes)
    for layer in ("default", "local"):
        folder = path / layer
        for file in sorted(folder.glob("*.conf")) if folder.is_dir() else []:
            conf_path = f"{layer}/{file.name}"
            text = _read_text(file, conf_path, limits.max_file_bytes)
            parsed = parse_conf(text, path=conf_path)
            if file.stem in confs:
                _layer(confs[file.stem], parsed)
            else:
                confs[file.stem] = parsed
    app = app_conf_from(confs.get("app", ConfFile()), folder=path.name)
    return TA(
        app_id=app.app_id,
        version=app.version,
        label=app.label,
        description=app.description,
        author=app.author,
        confs=confs,
        lookups=lookups,
        readme=readme,
        extra_files=extra,
        build=app.build,
    )


def _manifest(app: AppConf) -> str:
    """app.manifest (schema 2.0.0) so Splunk Cloud tooling sees the same id and version."""
    document = {
        "schemaVersion": "2.0.0",
        "info": {
            "title": app.label,
            "id": {"group": None, "name": app.app_id, "version": app.version},
            "author": [{"name": app.author or "unknown", "email": None, "company": None}],
            "releaseDate": None,
            "description": app.description or app.label,
            "classification": {
                "intendedAudience": "IT Professionals",
                "categories": [],
                "developmentStatus": "Production/Stable",
            },
            "commonInformationModels": None,
            "license": {"name": None, "text": None, "uri": None},
            "privacyPolicy": {"name": None, "text": None, "uri": None},
            "releaseNotes": {"name": None, "text": None, "uri": None},
        },
        "dependencies": None,
        "tasks": None,
        "inputGroups": None,
        "incompatibleApps": None,
        "platformRequirements": None,
        "supportedDeployments": ["_standalone", "_distributed", "_search_head_clustering"],
        "targetWorkloads": ["_search_heads", "_indexers"],
    }
    return json.dumps(document, indent=2) + "\n"


def _readme(ta: TA, app: AppConf) -> str:
    if ta.readme.strip():
        return ta.readme if ta.readme.endswith("\n") else ta.readme + "\n"
    lines = [f"# {app.label}", "", app.description or "A Splunk Technology Add-on.", ""]
    lines += [f"Version {app.version}. Install on search heads and indexers.", ""]
    return "\n".join(lines)


def _with_replication(server: ConfFile | None, custom: list[str]) -> ConfFile:
    """server.conf replicating the custom confs across a search head cluster."""
    out = ConfFile(path="default/server.conf")
    for stanza in server.stanzas.values() if server else ():
        out.stanzas[stanza.name] = Stanza(stanza.name, dict(stanza.settings))
    for name in custom:
        out.set("shclustering", f"conf_replication_include.{name}", "true")
    return out


def _files(ta: TA) -> dict[PurePosixPath, bytes]:
    """Every file of the app, app-relative, after validating the model."""
    app = ta.app.validate()
    files: dict[PurePosixPath, bytes] = {}
    confs = {name: conf for name, conf in ta.confs.items() if name != "app" and conf.stanzas}
    custom = sorted(set(confs) - SPLUNK_CONFS)
    if custom:
        confs["server"] = _with_replication(confs.get("server"), custom)
    for name, conf in sorted(confs.items()):
        if not CONF_NAME.match(name):
            raise InvalidTAError(f"conf name {name!r} is not a valid file name")
        if name == "props" and "default" in conf.stanzas:
            raise InvalidTAError("props.conf must not define a [default] stanza in an add-on")
        files[PurePosixPath("default", f"{name}.conf")] = render_conf(conf).encode()
    app_conf = app.to_conf(ta.confs.get("app"), custom_confs=custom)
    files[PurePosixPath("default/app.conf")] = render_conf(app_conf).encode()
    for name, content in ta.lookups.items():
        if "/" in name or name in ("", ".", "..") or name.startswith("."):
            raise InvalidTAError(f"lookup file name {name!r} is not a plain file name")
        files[PurePosixPath("lookups", name)] = content
    for key, content in ta.extra_files.items():
        relative = PurePosixPath(key)
        if relative.is_absolute() or ".." in relative.parts or not relative.parts:
            raise InvalidTAError(f"extra file {key!r} must be a relative path inside the app")
        if is_prohibited(relative):
            raise InvalidTAError(f"extra file {key!r} is not allowed in a Splunk app")
        if relative in files or relative.parts[0] == "metadata":
            raise InvalidTAError(f"extra file {key!r} would replace a generated file")
        files[relative] = content
    files[PurePosixPath("metadata/default.meta")] = DEFAULT_META.encode()
    files[PurePosixPath("README.md")] = _readme(ta, app).encode()
    files[PurePosixPath("app.manifest")] = _manifest(app).encode()
    return files


def write_ta(ta: TA, dest: Path) -> Path:
    """Write ``ta`` as ``dest/<app_id>/`` and return that folder.

    The folder is built beside its final place and renamed at the end, so a failure leaves
    nothing half-written; an existing folder of the same name is refused.
    """
    files = _files(ta)
    target = dest / ta.app_id
    if target.exists():
        raise InvalidTAError(f"{target} already exists")
    dest.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{ta.app_id}-", dir=dest))
    try:
        staging.chmod(DIR_MODE)
        for relative, content in sorted(files.items()):
            file = staging.joinpath(*relative.parts)
            for parent in reversed(file.relative_to(staging).parents[:-1]):
                folder = staging / parent
                if not folder.exists():
                    folder.mkdir()
                    folder.chmod(DIR_MODE)
            file.write_bytes(content)
            file.chmod(FILE_MODE)
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target
