"""Write the OPC UA connector's public certificate to a file, for the OPC UA servers that must trust it.

Shared by ``aio-certs connector-cert`` and the dashboard's preview key. DER by default (what OPC UA
servers import), PEM on request. An existing file is refused unless replacing it was asked for; the
file appears whole or not at all (written beside it, then linked or renamed into place). Only the
public certificate the model decoded is ever written: the Secret's private key is not read here at all.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tui.core.durations import screen_time
from tui.core.model.connector import ConnectorCertView
from tui.core.text import printable


class ExportRefused(Exception):
    """Nothing was written; ``str()`` is the one line saying why (user input escaped)."""


@dataclass(frozen=True)
class Exported:
    """What was written."""

    path: Path
    form: str
    """``DER`` or ``PEM``."""
    size: int

    def describe(self, view: ConnectorCertView) -> str:
        """One line for the user: what the file holds and what to do with it."""
        cert = view.certificate
        assert cert is not None
        # Subject and URI come from the cluster: escaped, so they cannot drive the terminal.
        uri = f", application URI {printable(cert.application_uri)}" if cert.application_uri else ""
        what = f"{self.form}, {self.size} bytes"
        return (
            f"wrote {printable(str(self.path))} ({what}): {printable(cert.subject)}{uri}, "
            f"expires {screen_time(cert.not_after)}, SHA-1 {cert.sha1}; add it to each OPC UA server's "
            "trusted certificates"
        )


def public_bytes(view: ConnectorCertView | None, *, pem: bool) -> bytes:
    """The public certificate as DER or PEM; refused when there is none to write."""
    if view is None:
        raise ExportRefused("the connector's certificate is unknown: the Secrets could not be read")
    cert = view.certificate
    if cert is None:
        why = view.decode_error or "it does not exist"
        raise ExportRefused(f"no connector certificate to write: {view.where}: {why}")
    return cert.pem.encode("ascii") if pem else cert.der


def export_public_certificate(
    view: ConnectorCertView | None,
    path: Path,
    *,
    pem: bool = False,
    overwrite: bool = False,
    exists_hint: str = "--force replaces it",
) -> Exported:
    """Write the connector's public certificate to ``path``; raises :class:`ExportRefused`.

    ``exists_hint`` ends the refusal when ``path`` exists (the CLI names ``--force``, a dialog another way).
    """
    data = public_bytes(view, pem=pem)
    shown = printable(str(path))
    if path.is_dir():
        raise ExportRefused(f"{shown} is a directory; name a file")
    if not overwrite and (path.exists() or path.is_symlink()):
        raise ExportRefused(f"{shown} already exists; {exists_hint}")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise ExportRefused(f"{shown}: folder {printable(str(parent))} does not exist")
    try:
        fd, tmp = tempfile.mkstemp(prefix=".aio-certs-", dir=parent)
    except OSError as exc:
        raise ExportRefused(f"cannot write {shown}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o644)  # a public certificate, meant to be copied to servers
        if overwrite:
            os.replace(tmp, path)
        else:
            # A link fails if the name was taken meanwhile: never replaces a file it was not asked to.
            os.link(tmp, path)
    except FileExistsError:
        raise ExportRefused(f"{shown} already exists; {exists_hint}") from None
    except OSError as exc:
        raise ExportRefused(f"cannot write {shown}: {exc.strerror or exc}") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    return Exported(path, "PEM" if pem else "DER", len(data))
