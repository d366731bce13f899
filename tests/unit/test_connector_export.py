"""Writing the connector's public certificate (tui/ops/connector_export.py): refusals in one line that
change nothing, DER or PEM, never over an existing file unless asked, never a leftover temporary file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests import certgen as cg
from tui.core.certs import decode_bytes
from tui.core.model.connector import ConnectorCertSource, ConnectorCertView
from tui.ops.connector_export import ExportRefused, export_public_certificate, public_bytes

APP = cg.make_leaf(None, "aio-opc-opcuabroker", uris=["urn:microsoft.com:aio:opc:ua:broker"])


def view(*, with_cert: bool = True) -> ConnectorCertView:
    cert = decode_bytes(APP.der, "tls.crt").certificates[0] if with_cert else None
    return ConnectorCertView(
        source=ConnectorCertSource.CERT_MANAGER,
        namespace="azure-iot-operations",
        secret_name="aio-opc-opcuabroker-default-application-cert",
        key="tls.crt",
        present=with_cert,
        certificate=cert,
        decode_error=None,
    )


def test_der_by_default_pem_on_request(tmp_path: Path) -> None:
    der = export_public_certificate(view(), tmp_path / "c.der")
    assert (der.form, (tmp_path / "c.der").read_bytes()) == ("DER", APP.der)
    pem = export_public_certificate(view(), tmp_path / "c.pem", pem=True)
    assert (pem.form, (tmp_path / "c.pem").read_bytes()) == ("PEM", APP.pem)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.der", "c.pem"]


def test_an_existing_file_or_link_is_kept_unless_overwrite(tmp_path: Path) -> None:
    target = tmp_path / "c.der"
    target.write_bytes(b"theirs")
    with pytest.raises(ExportRefused, match=r"c\.der already exists; --force replaces it$"):
        export_public_certificate(view(), target)
    assert target.read_bytes() == b"theirs"
    dangling = tmp_path / "link.der"
    os.symlink(tmp_path / "nowhere", dangling)
    with pytest.raises(ExportRefused, match="already exists"):
        export_public_certificate(view(), dangling)
    export_public_certificate(view(), target, overwrite=True)
    assert target.read_bytes() == APP.der
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.der", "link.der"]


def test_nothing_to_write_is_refused_with_where_it_looked(tmp_path: Path) -> None:
    with pytest.raises(ExportRefused, match="Secrets could not be read"):
        public_bytes(None, pem=False)
    with pytest.raises(ExportRefused) as refused:
        export_public_certificate(view(with_cert=False), tmp_path / "c.der")
    assert str(refused.value) == (
        "no connector certificate to write: Secret azure-iot-operations/"
        "aio-opc-opcuabroker-default-application-cert key tls.crt: it does not exist"
    )
    assert list(tmp_path.iterdir()) == []


def test_a_folder_or_a_missing_folder_is_refused_escaped(tmp_path: Path) -> None:
    with pytest.raises(ExportRefused, match="is a directory; name a file"):
        export_public_certificate(view(), tmp_path)
    with pytest.raises(ExportRefused) as refused:
        export_public_certificate(view(), tmp_path / "a\x1b[2Jb" / "c.der")
    assert "\x1b" not in str(refused.value) and "does not exist" in str(refused.value)
    assert list(tmp_path.iterdir()) == []
