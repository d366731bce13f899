"""An on-disk copy of decoded certificates, so that the next start skips decoding (docs/design.md §10.1).

Decoding 2,000 trust-list files costs about half a second of a start (cryptography's parsing and the
self-signature checks). The outcome of decoding is a pure function of the bytes and of the decoder, so
it is kept by the bytes' SHA-256 in ``<state dir>/cache/decoded-v1.bin`` and loaded into the
:class:`~tui.core.build.cache.DecodeCache` before the first build:

- **Invalidation**: a changed file has another SHA-256 and is simply decoded again; the whole copy is
  ignored when the decoder may decide differently (a fingerprint of the decoder's source, the
  cryptography release and the Python version is stored with it). Entries no longer seen are dropped at
  the next save, which keeps only what the cache holds at that moment.
- **No key material**: values are the decoded certificates and CRLs (public) and whether a key was seen;
  a decode of bytes that held a private key is never written, not even its digest.
- **Trust**: the file is read only when it is a regular file owned by the user and writable by nobody
  else (the same rule as the journal's, :func:`tui.config.private_problem`), and the unpickler accepts
  only the value types of the decoder; anything else (a damaged, foreign or older file) is ignored and
  rewritten, never an error a user sees.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import os
import pickle
import stat
import sys
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import cryptography

import tui.core.certs
from tui.config import DIR_MODE, FILE_MODE, StateDirError, prepare_state_dir, private_problem
from tui.core.build import cache as cache_module
from tui.core.build.cache import DecodeCache, DecodedValue
from tui.core.certs.model import CertificateInfo, CrlInfo

log = logging.getLogger(__name__)

CACHE_DIR = "cache"
FILE_NAME = "decoded-v1.bin"
MAGIC = b"aio-certs decoded v1\n"
MAX_BYTES = 256 * 1024 * 1024
"""A larger file is not ours to load (2,000 entries take about 4 MiB)."""

_ALLOWED: dict[tuple[str, str], Any] = {
    ("tui.core.build.cache", "DecodedValue"): DecodedValue,
    ("tui.core.certs.model", "CertificateInfo"): CertificateInfo,
    ("tui.core.certs.model", "CrlInfo"): CrlInfo,
    ("datetime", "datetime"): datetime,
    ("datetime", "timezone"): timezone,
    ("datetime", "timedelta"): timedelta,
    ("builtins", "frozenset"): frozenset,
    ("builtins", "set"): set,
}


class _ValuesOnly(pickle.Unpickler):
    """Unpickles the decoder's plain values and nothing else (no callables, no other classes)."""

    def find_class(self, module: str, name: str) -> Any:
        found = _ALLOWED.get((module, name))
        if found is None:
            raise pickle.UnpicklingError(f"{module}.{name} is not a decoded value")
        return found


def decoder_fingerprint() -> bytes:
    """What the decoding outcome depends on besides the bytes: the decoder's source and its libraries."""
    digest = hashlib.sha256()
    sources = sorted(Path(tui.core.certs.__file__).parent.glob("*.py"))
    sources.append(Path(cache_module.__file__))
    for source in sources:
        digest.update(source.name.encode())
        digest.update(source.read_bytes())
    digest.update(f"cryptography {cryptography.__version__} python {sys.version_info[:2]}".encode())
    return digest.digest()


class DecodedStore:
    """Loads and saves the decodes of one :class:`DecodeCache` under ``state_dir``; never raises.

    Saving prepares ``state_dir`` as every command does (owner-only); one another user could write to
    gets nothing.
    """

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.path = state_dir / CACHE_DIR / FILE_NAME
        self._lock = threading.Lock()
        self._saved: frozenset[bytes] = frozenset()
        self.loaded = 0
        """Entries read from disk by the last :meth:`load_into` (those the cache held already included)."""
        self.problem: str | None = None
        """Why the last load or save did nothing (for tests and logs), None after a success."""

    def load_into(self, cache: DecodeCache) -> int:
        """Add the stored decodes to ``cache``; returns how many it did not hold (0 without a usable copy)."""
        values = self._read()
        if values is None:
            return 0
        with self._lock:
            self._saved = frozenset(values)
        self.loaded = len(values)
        return cache.preload(values.items())

    def save_from(self, cache: DecodeCache) -> bool:
        """Write the decodes ``cache`` holds now (none that saw a private key); False when nothing was
        written (unchanged, or the state directory is missing or not the user's alone)."""
        items = {digest: value for digest, value in cache.decoded_items() if not value.private_key_present}
        with self._lock:
            if frozenset(items) == self._saved:
                self.problem = None
                return False
        try:
            written = self._write(items)
        except (OSError, pickle.PicklingError) as exc:
            self.problem = f"{self.path}: not saved ({exc})"
            log.debug("%s", self.problem)
            return False
        if written:
            with self._lock:
                self._saved = frozenset(items)
        return written

    # -- files -----------------------------------------------------------------------------------

    def _read(self) -> dict[bytes, DecodedValue] | None:
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
        except FileNotFoundError:
            self.problem = f"{self.path}: none yet"
            return None
        except OSError as exc:
            self.problem = f"{self.path}: not read ({exc.strerror or exc})"
            return None
        try:
            st = os.fstat(fd)
            problem = private_problem(st) or ("" if stat.S_ISREG(st.st_mode) else "not a regular file")
            if not problem and st.st_size > MAX_BYTES:
                problem = f"larger than {MAX_BYTES} bytes"
            if problem:
                self.problem = f"{self.path}: {problem}"
                return None
            with os.fdopen(fd, "rb", closefd=False) as handle:
                # Sized by the file, not the cap: a read of MAX_BYTES + 1 reserves that much first.
                data = handle.read(st.st_size + 1)
        except OSError as exc:
            self.problem = f"{self.path}: not read ({exc.strerror or exc})"
            return None
        finally:
            os.close(fd)
        return self._parse(data)

    def _parse(self, data: bytes) -> dict[bytes, DecodedValue] | None:
        head = MAGIC + decoder_fingerprint()
        if not data.startswith(head):
            self.problem = f"{self.path}: made by another version of the decoder"
            return None
        try:
            values = _ValuesOnly(io.BytesIO(data[len(head) :])).load()
        except Exception as exc:  # a damaged file is only a cache miss
            self.problem = f"{self.path}: unreadable ({type(exc).__name__})"
            return None
        if not isinstance(values, dict) or not all(
            isinstance(k, bytes) and len(k) == 32 and type(v) is DecodedValue for k, v in values.items()
        ):
            self.problem = f"{self.path}: not a table of decoded values"
            return None
        self.problem = None
        return values

    def _write(self, items: dict[bytes, DecodedValue]) -> bool:
        try:
            prepare_state_dir(self.state_dir)  # owner-only, as for the journal; refused if others may write
        except StateDirError as exc:
            self.problem = str(exc)
            return False
        directory = self.path.parent
        with contextlib.suppress(FileExistsError):  # made by an earlier run; judged just below
            os.mkdir(directory, DIR_MODE)
        st = os.lstat(directory)
        problem = private_problem(st) or ("" if stat.S_ISDIR(st.st_mode) else "not a directory")
        if problem:
            self.problem = f"{directory}: {problem}"
            return False
        payload = MAGIC + decoder_fingerprint() + pickle.dumps(items, protocol=pickle.HIGHEST_PROTOCOL)
        temporary = directory / f".{FILE_NAME}.{os.getpid()}.{threading.get_ident()}"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, FILE_MODE)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(payload)
            os.replace(temporary, self.path)  # readers see the old copy or the new one, never half
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        self.problem = None
        return True
