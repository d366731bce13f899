"""The user's configuration file and state directory.

``~/.config/aio-certs/config.toml`` (``$XDG_CONFIG_HOME/aio-certs/config.toml``; ``$AIO_CERTS_CONFIG``
names another file) holds site defaults a technician should not retype::

    read_only = true          # this workstation only looks; every write path is refused
    state_dir = "~/aio-certs-state"
    auth = "device-code"
    cloud = "AzureCloud"
    expiring_days = "30/7"    # WARN/CRIT, as --expiring-days

Command-line flags override the file, except that ``read_only = true`` cannot be switched off by a
flag: a read-only workstation stays read-only. The command layer folds the two into its typed settings
(``tui/commands/shared/settings.py``); nothing here sees the command line. Unknown keys are refused (a
misspelt ``readonly`` must not silently allow writes). Only the standard library is used, so every
command may load this at start.

The state directory (journal of applies, audit log) is ``$AIO_CERTS_STATE_DIR``, else ``state_dir``
from the file, else ``$XDG_STATE_HOME/aio-certs``, else ``~/.local/state/aio-certs``. Whoever can write
in it can rewrite the audit log or a journal that a later ``journal resume`` replays, so
:func:`prepare_state_dir` (used by every command and the dashboard before they touch it) creates it and
what is in it owner-only whatever the umask, and refuses one that another user could write to.
"""

from __future__ import annotations

import os
import stat
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from tui.core.files import UnreadableFile, read_regular_file
from tui.core.text import printable

CONFIG_ENV = "AIO_CERTS_CONFIG"
STATE_DIR_ENV = "AIO_CERTS_STATE_DIR"
APP_DIR = "aio-certs"
CONFIG_FILE = "config.toml"
MAX_CONFIG_BYTES = 64 * 1024
"""A config file is a few lines; anything bigger is not one."""
AUTH_MODES = ("default", "cli", "managed-identity", "device-code", "workload-identity", "demo")
CLOUDS = ("AzureCloud", "AzureChinaCloud", "AzureUSGovernment")
JOURNAL_DIR = "journal"
"""The state directory's sub-directory of apply journals (``tui.ops.journal``)."""
AUDIT_FILE = "audit.jsonl"
"""The state directory's audit log (``tui.ops.audit``)."""
DIR_MODE = 0o700
FILE_MODE = 0o600
_OTHERS_WRITE = stat.S_IWGRP | stat.S_IWOTH


class ConfigError(ValueError):
    """The configuration file is unusable; ``str()`` is one line naming the file (and key) and why."""


class StateDirError(OSError):
    """The state directory (or something in it) cannot be used safely; ``str()`` is one line naming the
    path and what is wrong. Nothing was written in it."""


@dataclass(frozen=True)
class UserConfig:
    """What the configuration file says; None means "not set there"."""

    read_only: bool = False
    state_dir: Path | None = None
    auth: str | None = None
    cloud: str | None = None
    expiring_days: str | None = None
    """``WARN/CRIT`` in days, the same text ``--expiring-days`` takes."""
    source: Path | None = None
    """The file these values came from; None when no file was read."""


def _home(env: Mapping[str, str]) -> Path:
    return Path(env["HOME"]) if env.get("HOME") else Path.home()


def config_path(environ: Mapping[str, str] | None = None) -> Path:
    """Where the configuration file is looked for (it need not exist)."""
    env = os.environ if environ is None else environ
    explicit = env.get(CONFIG_ENV, "").strip()
    if explicit:
        return Path(explicit).expanduser()
    base = env.get("XDG_CONFIG_HOME", "").strip()
    root = Path(base).expanduser() if base else _home(env) / ".config"
    return root / APP_DIR / CONFIG_FILE


def _check_days(value: str, where: str) -> str:
    warn, sep, crit = value.strip().partition("/")
    try:
        if not sep:
            raise ValueError
        numbers = int(warn), int(crit)
    except ValueError:
        raise ConfigError(f'{where}: expected WARN/CRIT in days such as "30/7", got {value!r}') from None
    if min(numbers) < 0 or numbers[1] > numbers[0]:
        raise ConfigError(f"{where}: days must be non-negative and CRIT must not exceed WARN, got {value!r}")
    return value.strip()


def _parse(data: Mapping[str, Any], path: Path) -> UserConfig:
    known = {"read_only", "state_dir", "auth", "cloud", "expiring_days"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"config {path}: unknown key {unknown[0]!r} (known: {', '.join(sorted(known))})")
    config = UserConfig(source=path)

    def where(key: str) -> str:
        return f"config {path}: {key}"

    if "read_only" in data:
        if not isinstance(data["read_only"], bool):
            raise ConfigError(f"{where('read_only')}: must be true or false")
        config = replace(config, read_only=data["read_only"])
    for key in ("state_dir", "auth", "cloud", "expiring_days"):
        if key in data and (not isinstance(data[key], str) or not data[key].strip()):
            raise ConfigError(f"{where(key)}: must be a non-empty string")
    if "state_dir" in data:
        config = replace(config, state_dir=Path(data["state_dir"]).expanduser())
    if "auth" in data:
        auth = data["auth"].strip().lower()
        if auth not in AUTH_MODES:
            raise ConfigError(
                f"{where('auth')}: unknown mode {auth!r} (expected one of {', '.join(AUTH_MODES)})"
            )
        config = replace(config, auth=auth)
    if "cloud" in data:
        cloud = next((c for c in CLOUDS if c.lower() == data["cloud"].strip().lower()), None)
        if cloud is None:
            raise ConfigError(
                f"{where('cloud')}: unknown cloud {data['cloud']!r} (expected one of {', '.join(CLOUDS)})"
            )
        config = replace(config, cloud=cloud)
    if "expiring_days" in data:
        config = replace(config, expiring_days=_check_days(data["expiring_days"], where("expiring_days")))
    return config


def load_config(path: Path | None = None, *, environ: Mapping[str, str] | None = None) -> UserConfig:
    """Read the configuration file; defaults when the default file does not exist.

    A file named explicitly (``path`` or ``$AIO_CERTS_CONFIG``) must exist. Raises :class:`ConfigError`.
    """
    env = os.environ if environ is None else environ
    explicit = path is not None or bool(env.get(CONFIG_ENV, "").strip())
    chosen = path if path is not None else config_path(env)
    shown = printable(str(chosen))
    if not explicit and not os.path.lexists(chosen):
        return UserConfig()
    try:
        # The file rules of every other input: a FIFO named here would block every command, /dev/zero
        # would fill the memory.
        raw = read_regular_file(chosen, limit=MAX_CONFIG_BYTES)
    except UnreadableFile as exc:
        raise ConfigError(f"config {shown}: {exc}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"config {shown}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config {shown}: not valid TOML ({printable(str(exc))})") from None
    return _parse(data, chosen)


def state_dir(config: UserConfig | None = None, *, environ: Mapping[str, str] | None = None) -> Path:
    """The directory for the apply journal and the audit log (not created here)."""
    env = os.environ if environ is None else environ
    explicit = env.get(STATE_DIR_ENV, "").strip()
    if explicit:
        return Path(explicit).expanduser()
    if config is not None and config.state_dir is not None:
        return config.state_dir
    base = env.get("XDG_STATE_HOME", "").strip()
    root = Path(base).expanduser() if base else _home(env) / ".local" / "state"
    return root / APP_DIR


def private_problem(st: os.stat_result) -> str | None:
    """Why a file or directory with status ``st`` is not this user's alone to write, or None.

    Mode bits and the owner are read explicitly: ``os.access`` says yes to root for everything, and
    the question is not whether we may write but whether someone else may.
    """
    uid = os.geteuid()
    if st.st_uid != uid:
        return f"owned by uid {st.st_uid}, not by the current user (uid {uid}); refusing to use it"
    if st.st_mode & _OTHERS_WRITE:
        return (
            f"group- or world-writable (mode {stat.S_IMODE(st.st_mode):04o}), so another user could "
            "rewrite the audit log or a journal; refusing to use it (chmod go-w it)"
        )
    return None


def check_private(st: os.stat_result, what: str) -> None:
    """Raise :class:`StateDirError` (``what: why``) when :func:`private_problem` finds a problem."""
    problem = private_problem(st)
    if problem is not None:
        raise StateDirError(f"{what}: {problem}")


def _stat_followed(path: Path, label: str) -> tuple[os.stat_result, str] | None:
    """``(stat of what path leads to, how to name it)``; None when nothing is there."""
    what = f"{label} {path}"
    try:
        link = os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StateDirError(f"{what}: cannot use it ({exc.strerror or exc})") from None
    if not stat.S_ISLNK(link.st_mode):
        return link, what
    # Whoever owns the link can point it elsewhere later; root's links are as trusted as root is.
    if link.st_uid not in (os.geteuid(), 0):
        raise StateDirError(
            f"{what}: a symlink owned by uid {link.st_uid}, not by the current user; refusing to use it"
        )
    what = f"{what} (a symlink to {os.path.realpath(path)})"
    try:
        return os.stat(path), what
    except FileNotFoundError:
        raise StateDirError(f"{what}: the symlink leads nowhere") from None
    except OSError as exc:
        raise StateDirError(f"{what}: cannot use it ({exc.strerror or exc})") from None


def _check_dir(path: Path, label: str) -> bool:
    """Whether the directory exists; :class:`StateDirError` when it is not one or is not ours alone."""
    found = _stat_followed(path, label)
    if found is None:
        return False
    st, what = found
    if not stat.S_ISDIR(st.st_mode):
        raise StateDirError(f"{what}: not a directory")
    check_private(st, what)
    return True


def _make_dirs(path: Path, label: str) -> None:
    """Create ``path`` and its missing parents, each 0700 whatever the umask."""
    missing: list[Path] = []
    current = path
    # lexists: a dangling symlink is something there (the check names it), not a gap to fill.
    while not os.path.lexists(current) and current.parent != current:
        missing.append(current)
        current = current.parent
    for directory in reversed(missing):
        try:
            os.mkdir(directory, DIR_MODE)
        except FileExistsError:
            continue  # made meanwhile by another aio-certs; the check after this judges it
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise StateDirError(f"{label} {path}: cannot create {directory} ({reason})") from None
        # mkdir's mode is masked by the umask (and umask 077 is not everyone's); set it outright.
        os.chmod(directory, DIR_MODE)


def prepare_state_dir(path: Path, *, create: bool = True) -> Path:
    """Make ``path`` ready as the state directory and return it; the one gate every user goes through.

    Creates the directory, its missing parents and its ``journal`` sub-directory owner-only (0700)
    whatever the umask (with ``create``; without it only checks what exists, for commands that only
    read). Refuses, with :class:`StateDirError` (one line naming the path and why), a state directory,
    journal directory or audit log that is not a directory (or regular file), that belongs to another
    user, or that group or others may write to, also when reached through a symlink.
    """
    if create:
        _make_dirs(path, "state directory")
    if not _check_dir(path, "state directory"):
        return path
    journal = path / JOURNAL_DIR
    if not _check_dir(journal, "journal directory") and create:
        _make_dirs(journal, "journal directory")
        _check_dir(journal, "journal directory")
    found = _stat_followed(path / AUDIT_FILE, "audit log")
    if found is not None:
        st, what = found
        if not stat.S_ISREG(st.st_mode):
            raise StateDirError(f"{what}: not a regular file")
        check_private(st, what)
    return path
