"""Validation rules of the change engine: one test per rule, accepting and refusing, messages checked."""

from __future__ import annotations

from datetime import timedelta
from types import MappingProxyType
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from tests import certgen as cg
from tests.plansite import NOW, OTHER_CA, PLC1, PLC2, PLC3, SITE_CA, STRANGER, build, plan_site
from tests.rawobjects import Site, secret_sync
from tui.core.changes.changeset import AddFile, AddVaultSecret, Change, ChangeSet, RemoveEntry
from tui.core.changes.validation import Validation, validate
from tui.core.model import resources as rk
from tui.core.model.snapshot import AreaState, VaultSecret

_DEFAULT: Any = object()


def check(*changes: Change, site: Site | None = None, vault: Any = _DEFAULT, **kwargs: Any) -> Validation:
    """Validate ``changes`` against the site (default: plc-1.der trusted, site-ca.crt in the issuer list)."""
    built = build(site or plan_site())
    secrets = built.vault.secrets if vault is _DEFAULT else vault
    kwargs.setdefault("now", NOW)
    return validate(ChangeSet.of(changes), built.state, vault_secrets=secrets, **kwargs)


def problems(v: Validation) -> list[str]:
    return [p.message for p in v.problems]


def warnings(v: Validation) -> list[str]:
    return [w.message for w in v.warnings]


def codes(v: Validation) -> list[str]:
    return [p.code for p in v.problems]


def test_a_good_file_passes_and_resolves() -> None:
    v = check(AddFile("trust", "plc-2.der", PLC2.der))
    assert v.ok and problems(v) == [] and warnings(v) == []
    (r,) = v.resolved
    assert (r.list_name, r.target_key, r.secret_name, r.vault_exists, r.ok) == (
        "trust",
        "plc-2.der",
        "plc-2-der",
        False,
        True,
    )
    assert r.content is not None and r.content.certificate is not None
    assert r.content.sha1 == r.content.certificate.sha1


# --- Official rules -----


def test_extensions_per_list_case_insensitive() -> None:
    assert check(AddFile("trust", "PLC-2.DER", PLC2.der)).ok
    assert check(AddFile("trust", "plc-2.Crt", PLC2.pem)).ok
    assert problems(check(AddFile("trust", "plc-2.pem", PLC2.pem))) == [
        "trust/plc-2.pem: extension .pem is not allowed in the trust list (use .der or .crt)"
    ]
    assert problems(check(AddFile("trust", "plc-2", PLC2.der))) == [
        "trust/plc-2: no extension is not allowed in the trust list (use .der or .crt)"
    ]
    crl = cg.make_crl(SITE_CA, this_update=NOW).der
    assert problems(check(AddFile("trust", "site-ca.crl", crl)))[0] == (
        "trust/site-ca.crl: extension .crl is not allowed in the trust list (use .der or .crt)"
    )
    assert check(AddFile("issuer", "site-ca.crl", crl)).ok


def test_an_extension_not_in_lower_case_is_warned_about_not_refused() -> None:
    # The official CLI compares the typed extension case-sensitively (docs/domain.md §6.3, §7.2).
    upper = check(AddFile("trust", "PLC-2.DER", PLC2.der))
    assert upper.ok and [w.code for w in upper.warnings] == ["extension-case"]
    assert warnings(upper) == [
        "trust/PLC-2.DER: extension .DER is not lower case: the official CLI compares extensions "
        "case-sensitively and would mis-type this file, and whether the connector reads it is "
        "unconfirmed; consider naming it PLC-2.der"
    ]
    mixed = check(AddFile("trust", "plc-2.Crt", PLC2.pem))
    assert mixed.ok and "consider naming it plc-2.crt" in warnings(mixed)[0]
    crl = cg.make_crl(SITE_CA, this_update=NOW).der
    assert [w.code for w in check(AddFile("issuer", "site-ca.CRL", crl)).warnings] == ["extension-case"]
    # Lower case, or an upper-case stem, is no concern; a refused extension gets its refusal only.
    assert warnings(check(AddFile("trust", "PLC-2.der", PLC2.der))) == []
    refused = check(AddFile("trust", "plc-2.PEM", PLC2.pem))
    assert codes(refused) == ["extension"] and warnings(refused) == []


def test_a_vault_secret_added_under_an_upper_case_extension_is_warned_about() -> None:
    vault = _vault_with(**{"plc-2-der": _hex_secret("plc-2-der", PLC2.der)})
    v = check(AddVaultSecret("trust", "plc-2-der", target_key="plc-2.DER"), vault=vault)
    assert v.ok and [w.code for w in v.warnings] == ["extension-case"]


def test_crt_must_hold_exactly_one_pem_certificate() -> None:
    assert problems(check(AddFile("trust", "plc-2.crt", PLC2.der))) == [
        "trust/plc-2.crt: a .crt file must hold exactly one PEM certificate (it holds a DER certificate)"
    ]
    assert problems(check(AddFile("trust", "plc-2.crt", cg.bundle(PLC2, PLC3)))) == [
        "trust/plc-2.crt: holds 2 certificate(s); a list file holds exactly one"
    ]


def test_der_must_hold_one_der_certificate() -> None:
    assert problems(check(AddFile("trust", "plc-2.der", PLC2.pem))) == [
        "trust/plc-2.der: a .der file must hold one DER certificate (it holds a PEM certificate)"
    ]
    assert problems(check(AddFile("trust", "plc-2.der", cg.kv_hex(PLC2.der)))) == [
        "trust/plc-2.der: holds Key Vault hex text; use the original file"
    ]
    assert problems(check(AddFile("trust", "plc-2.der", b"hello"))) == [
        "trust/plc-2.der: not a certificate or CRL (no PEM block, not DER, not Key Vault hex)"
    ]


def test_crl_must_be_der() -> None:
    crl = cg.make_crl(SITE_CA, this_update=NOW)
    assert problems(check(AddFile("issuer", "site-ca.crl", crl.pem))) == [
        "issuer/site-ca.crl: holds a PEM CRL; the connector reads .crl files as DER"
    ]
    assert problems(check(AddFile("issuer", "site-ca.crl", OTHER_CA.der))) == [
        "issuer/site-ca.crl: a .crl file must hold one DER CRL (it holds a DER certificate)"
    ]


def test_issuer_list_takes_only_ca_certificates() -> None:
    assert check(AddFile("issuer", "other-ca.der", OTHER_CA.der)).ok
    assert problems(check(AddFile("issuer", "plc-2.der", PLC2.der))) == [
        "issuer/plc-2.der: only CA certificates can be added to the issuer list "
        "(basicConstraints cA is false or absent)"
    ]
    assert check(AddFile("trust", "other-ca.der", OTHER_CA.der)).ok  # the trust list takes CAs too


def _v3_without_basic_constraints() -> bytes:
    key = cg.make_key("ec", "no-bc")
    subject = cg.name("No Basic Constraints")
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(7)
        .not_valid_before(cg.EPOCH)
        .not_valid_after(cg.EPOCH + timedelta(days=999))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )  # type: ignore[arg-type]
    return cert.public_bytes(serialization.Encoding.DER)


def test_v3_without_basic_constraints_is_refused_not_a_crash() -> None:
    assert codes(check(AddFile("issuer", "nobc.der", _v3_without_basic_constraints()))) == ["not-ca"]


def test_v1_certificates_in_the_issuer_list() -> None:
    legacy_root = cg.make_ca("Legacy Root", version=1)
    v = check(AddFile("issuer", "legacy.der", legacy_root.der))
    assert v.ok
    assert warnings(v) == [
        "issuer/legacy.der: X.509 v1 certificate accepted as a CA because it is self-signed "
        "(v1 has no basicConstraints)"
    ]
    v1_sub = cg.make_ca("Legacy Sub", issuer=SITE_CA, version=1)
    assert problems(check(AddFile("issuer", "legacy-sub.der", v1_sub.der))) == [
        "issuer/legacy-sub.der: X.509 v1 certificate that is not self-signed cannot be a CA "
        "(no basicConstraints); only CA certificates can be added to the issuer list"
    ]


def test_crl_needs_its_ca_by_stem_in_the_list() -> None:
    crl = cg.make_crl(SITE_CA, this_update=NOW).der
    assert check(AddFile("issuer", "site-ca.crl", crl)).ok
    assert problems(check(AddFile("issuer", "other.crl", crl))) == [
        "issuer/other.crl: its CA must be in the issuer list as other.crt or other.der "
        "(already, or staged in this change set)"
    ]
    # The CA in the trust list does not count: the official rule looks at the issuer list only.
    site = plan_site(trust={"other.der": OTHER_CA.der}, issuer={})
    assert codes(
        check(AddFile("issuer", "other.crl", cg.make_crl(OTHER_CA, this_update=NOW).der), site=site)
    ) == ["crl-without-ca"]


def test_crl_with_its_ca_staged_in_the_same_set_in_either_order() -> None:
    crl = cg.make_crl(OTHER_CA, this_update=NOW).der
    ca = AddFile("issuer", "other-ca.der", OTHER_CA.der)
    add_crl = AddFile("issuer", "other-ca.crl", crl)
    assert check(ca, add_crl).ok
    assert check(add_crl, ca).ok
    # The CA refused for its own reason does not carry its CRL.
    bad_ca = AddFile("issuer", "other-ca.der", OTHER_CA.pem)
    assert codes(check(add_crl, bad_ca)) == ["crl-without-ca", "format"]


def test_crl_must_really_be_signed_by_that_ca() -> None:
    forged = cg.make_crl(OTHER_CA, this_update=NOW).der
    assert problems(check(AddFile("issuer", "site-ca.crl", forged))) == [
        "issuer/site-ca.crl: not signed by the CA in site-ca.crt (issued by CN=Other CA,O=aio-certs tests, "
        "not by CN=Site CA,O=aio-certs tests)"
    ]
    # Same name, different key: the name matches but the signature does not verify.
    impostor = cg.make_ca("Site CA", key=cg.make_key("ec", "impostor"))
    assert problems(check(AddFile("issuer", "site-ca.crl", cg.make_crl(impostor, this_update=NOW).der))) == [
        "issuer/site-ca.crl: not signed by the CA in site-ca.crt (its signature does not verify)"
    ]


def test_crl_refused_when_its_ca_is_removed_in_the_same_set() -> None:
    crl = cg.make_crl(SITE_CA, this_update=NOW).der
    v = check(RemoveEntry("issuer", "site-ca.crt"), AddFile("issuer", "site-ca.crl", crl))
    assert codes(v) == ["crl-without-ca"]


def test_stale_crl_is_a_warning() -> None:
    old = cg.make_crl(SITE_CA, this_update=NOW - timedelta(days=30)).der
    v = check(AddFile("issuer", "site-ca.crl", old))
    assert v.ok
    assert warnings(v) == ["issuer/site-ca.crl: CRL is past its nextUpdate; the connector may reject it"]


def test_secret_names() -> None:
    assert check(AddFile("trust", "plc-2.der", PLC2.der, secret_name="Plc2-Der-0")).ok
    assert problems(check(AddFile("trust", "plc-2.der", PLC2.der, secret_name="plc_2"))) == [
        "trust/plc-2.der: secret names may only hold letters, digits and '-' (^[0-9a-zA-Z-]+$) (got 'plc_2')"
    ]
    assert problems(check(AddFile("trust", "plc-2.der", PLC2.der, secret_name="a" * 128))) == [
        f"trust/plc-2.der: secret name longer than Key Vault's 127 characters (got '{'a' * 128}')"
    ]
    assert check(AddFile("trust", "plc-2.der", PLC2.der, secret_name="a" * 127)).ok
    assert codes(check(AddFile("trust", "plc-2.der", PLC2.der, secret_name="-plc"))) == ["secret-name"]
    # The proposed name never fails its own check (issue 13 item 12): the official tool's would be
    # plc_2-der, refused; other characters become '-'.
    change = AddFile("trust", "plc_2.der", PLC2.der)
    assert change.effective_secret_name == "plc-2-der"
    assert "secret-name" not in codes(check(change))


def test_file_names_must_be_target_keys() -> None:
    assert problems(check(AddFile("trust", "dir/plc-2.der", PLC2.der, secret_name="p"))) == [
        "trust/dir/plc-2.der: a file name in a list must not contain a path separator"
    ]
    assert codes(check(AddFile("trust", "-plc-2.der", PLC2.der, secret_name="p"))) == ["file-name"]
    # The SecretSync CRD's targetKey pattern wants two characters before the first dot.
    assert codes(check(AddFile("trust", "a.der", PLC2.der, secret_name="p"))) == ["file-name"]
    assert codes(check(AddFile("trust", "x" * 250 + ".der", PLC2.der, secret_name="p"))) == ["file-name"]


def test_expired_certificates_are_refused_and_not_yet_valid_warned() -> None:
    old = cg.make_leaf(SITE_CA, "old", days=30)
    assert problems(check(AddFile("trust", "old.der", old.der))) == [
        "trust/old.der: certificate expired at 2025-01-31T00:00:00Z"
    ]
    early = cg.make_leaf(SITE_CA, "early", not_before=NOW + timedelta(days=2))
    v = check(AddFile("trust", "early.der", early.der))
    assert v.ok
    assert warnings(v) == ["trust/early.der: certificate is not valid before 2025-04-13T00:00:00Z"]
    assert check(AddFile("trust", "old.der", old.der), now=cg.EPOCH + timedelta(days=1)).ok


def test_too_large_for_key_vault() -> None:
    big = cg.make_crl(SITE_CA, revoked=range(1, 700), this_update=NOW).der
    assert len(big) > 12_800
    v = check(AddFile("issuer", "site-ca.crl", big))
    assert codes(v) == ["too-large"]
    assert f"{len(big)} bytes are {2 * len(big)} hex characters; limit 25600" in problems(v)[0]


# --- Ours: keys, PKCS#12, duplicates, collisions -----


def test_private_keys_are_refused_and_never_quoted() -> None:
    with_key = PLC2.pem + PLC2.key_pem
    v = check(AddFile("trust", "plc-2.crt", with_key))
    assert problems(v) == ["trust/plc-2.crt: holds a private key; list files must never hold one"]
    assert problems(check(AddFile("trust", "plc-2.crt", PLC2.key_pem))) == [
        "trust/plc-2.crt: holds a private key and no certificate"
    ]
    key_body = PLC2.key_pem.decode().splitlines()[1]
    assert all(key_body not in m for m in problems(v))


def test_pkcs12_is_refused_with_the_way_out() -> None:
    p12 = pkcs12.serialize_key_and_certificates(
        b"plc",
        PLC2.key,
        PLC2.cert,
        None,  # type: ignore[arg-type]
        serialization.NoEncryption(),
    )
    (message,) = problems(check(AddFile("trust", "plc-2.der", p12)))
    assert message.startswith("trust/plc-2.der: PKCS#12 (.p12/.pfx) is not supported")
    assert codes(check(AddFile("trust", "plc-2.der", p12))) == ["pkcs12"]


def test_duplicate_thumbprint_names_where() -> None:
    assert problems(check(AddFile("trust", "copy.der", PLC1.der))) == [
        f"trust/copy.der: the same certificate (SHA-1 {_sha1(PLC1)}) is already in the trust list "
        "as plc-1.der"
    ]
    # The same certificate as PEM is the same certificate.
    assert codes(check(AddFile("trust", "copy.crt", PLC1.pem))) == ["duplicate"]
    # Twice in one change set.
    v = check(AddFile("trust", "aa.der", PLC2.der), AddFile("trust", "bb.der", PLC2.der))
    assert problems(v) == [
        f"trust/bb.der: the same certificate (SHA-1 {_sha1(PLC2)}) is already in the trust list as aa.der"
    ]
    # The other list is another list.
    assert check(
        AddFile("issuer", "site-ca-copy.der", SITE_CA.der),
        site=plan_site(trust={"site-ca.der": SITE_CA.der}, issuer={}),
    ).ok
    # Replacing an entry by itself is not a duplicate of itself.
    assert check(AddFile("trust", "plc-1.der", PLC1.der, overwrite=True)).ok
    # Removing the first copy in the same set makes room.
    assert check(RemoveEntry("trust", "plc-1.der"), AddFile("trust", "copy.der", PLC1.der)).ok


def _sha1(issued: cg.Issued) -> str:
    return issued.cert.fingerprint(hashes.SHA1()).hex().upper()


def test_target_key_collision_unless_overwrite() -> None:
    assert problems(check(AddFile("trust", "plc-1.der", PLC2.der))) == [
        "trust/plc-1.der: already in the trust list (vault secret plc-1-der); --overwrite replaces it",
        "trust/plc-1.der: vault secret plc-1-der already exists; --overwrite replaces it",
    ]
    v = check(AddFile("trust", "plc-1.der", PLC2.der, overwrite=True))
    assert v.ok
    assert v.resolved[0].replaces_source == "plc-1-der" and v.resolved[0].vault_exists is True
    # Exact: another case is another key (Secret keys are case-sensitive).
    assert check(AddFile("trust", "PLC-1.der", PLC2.der, secret_name="plc-1-upper")).ok
    assert problems(
        check(AddFile("trust", "xx.der", PLC2.der), AddFile("trust", "xx.der", PLC3.der, secret_name="x2"))
    ) == ["trust/xx.der: added twice in this change set"]


def test_vault_names_compare_case_insensitively_and_exactly() -> None:
    site = plan_site()
    site.vault_files["plc-a.der"] = PLC3.der  # secret plc-a-der exists, mapped nowhere
    assert problems(check(AddFile("trust", "plc-2.der", PLC2.der, secret_name="PLC-A-DER"), site=site)) == [
        "trust/plc-2.der: vault secret PLC-A-DER (as plc-a-der) already exists; --overwrite replaces it"
    ]
    # The official suffix match would call a-der taken because plc-a-der ends with it.
    assert check(AddFile("trust", "plc-b.der", PLC2.der, secret_name="b-der"), site=site).ok


def test_a_secret_backing_another_entry_is_never_reused() -> None:
    v = check(AddFile("trust", "plc-2.der", PLC2.der, secret_name="plc-1-der", overwrite=True))
    assert problems(v) == [
        "trust/plc-2.der: vault secret plc-1-der already backs trust/plc-1.der; choose another secret name"
    ]
    v = check(
        AddFile("trust", "aa.der", PLC2.der, secret_name="s"),
        AddFile("trust", "bb.der", PLC3.der, secret_name="S"),
    )
    assert problems(v) == ["trust/bb.der: vault secret S is also used by trust/aa.der in this set"]


def test_overwrite_refuses_a_vault_secret_that_is_not_a_certificate() -> None:
    site = plan_site()
    vault = dict(build(site).vault.secrets)
    vault["db-password"] = VaultSecret("db-password", "hunter2-hunter2", None)
    v = check(AddFile("trust", "plc-2.der", PLC2.der, secret_name="db-password", overwrite=True), vault=vault)
    assert problems(v) == [
        "trust/plc-2.der: vault secret db-password holds no certificate or CRL; refusing to overwrite it"
    ]
    assert all("hunter2" not in m for m in problems(v))


def test_leaf_whose_issuer_is_in_neither_list_is_a_warning() -> None:
    v = check(AddFile("trust", "stranger.der", STRANGER.der))
    assert v.ok
    assert warnings(v) == [
        "trust/stranger.der: a leaf issued by CN=Other CA,O=aio-certs tests, which is in "
        "neither list; add that CA to the issuer list so the connector can build the chain"
    ]
    assert (
        warnings(
            check(
                AddFile("trust", "stranger.der", STRANGER.der),
                AddFile("issuer", "other-ca.der", OTHER_CA.der),
            )
        )
        == []
    )
    assert warnings(check(AddFile("trust", "plc-2.der", PLC2.der))) == []


def test_vault_unreadable_is_a_problem_for_changes_that_need_it() -> None:
    v = check(AddFile("trust", "plc-2.der", PLC2.der), vault=None)
    assert problems(v) == [
        "trust/plc-2.der: Key Vault could not be read: cannot tell whether secret plc-2-der exists"
    ]
    assert check(RemoveEntry("trust", "plc-1.der"), vault=None).ok
    assert problems(check(RemoveEntry("trust", "plc-1.der", purge=True), vault=None)) == [
        "trust/plc-1.der: Key Vault could not be read: cannot purge secret plc-1-der"
    ]
    assert problems(check(AddVaultSecret("trust", "plc-1-der"), vault=None)) == [
        "vault secret plc-1-der: Key Vault could not be read"
    ]


# --- Add from Key Vault -----


def _vault_with(**secrets: VaultSecret) -> dict[str, VaultSecret]:
    base = dict(build(plan_site()).vault.secrets)
    base.update(secrets)
    return base


def _hex_secret(name: str, data: bytes, content_type: str = "application/pkix-cert") -> VaultSecret:
    return VaultSecret(name, data.hex(), content_type, MappingProxyType({"file-encoding": "hex"}))


def test_add_from_vault_resolves_name_encoding_and_content() -> None:
    vault = _vault_with(**{"plc-2-der": _hex_secret("plc-2-der", PLC2.der)})
    v = check(AddVaultSecret("trust", "plc-2-der"), vault=vault)
    assert v.ok
    (r,) = v.resolved
    assert (r.target_key, r.secret_name, r.object_encoding) == ("plc-2.der", "plc-2-der", "hex")
    # Untagged PEM text is read as the provider's default utf-8 and becomes a .crt.
    vault = _vault_with(plc2=VaultSecret("plc2", PLC2.pem.decode(), "application/x-pem-file"))
    v = check(AddVaultSecret("trust", "plc2"), vault=vault)
    assert v.ok and (v.resolved[0].target_key, v.resolved[0].object_encoding) == ("plc2.crt", "utf-8")
    # Names are looked up case-insensitively and used as Key Vault spells them.
    vault = _vault_with(
        **{"Site-CA-crl": _hex_secret("Site-CA-crl", cg.make_crl(SITE_CA, this_update=NOW).der)}
    )
    v = check(AddVaultSecret("issuer", "site-ca-crl", target_key="site-ca.crl"), vault=vault)
    assert v.ok and v.resolved[0].secret_name == "Site-CA-crl"


def test_add_from_vault_refuses_what_is_not_a_certificate_or_crl() -> None:
    vault = _vault_with(
        password=VaultSecret("password", "correct horse battery staple", None),
        key=_hex_secret("key", PLC2.key_pem),
        certobj=VaultSecret("certobj", "MIIabc", "application/x-pkcs12"),
        disabled=VaultSecret("disabled", PLC2.der.hex(), None, enabled=False),
        listed=VaultSecret("listed", None, None),
        badhex=VaultSecret("badhex", "zz", None, MappingProxyType({"file-encoding": "hex"})),
    )
    assert problems(check(AddVaultSecret("trust", "nope"), vault=vault)) == [
        "vault secret nope: not found in Key Vault"
    ]
    assert problems(check(AddVaultSecret("trust", "password"), vault=vault)) == [
        "vault secret password: the value is neither hex (file-encoding=hex) nor PEM text"
    ]
    assert problems(check(AddVaultSecret("trust", "key"), vault=vault)) == [
        "vault secret key: holds a private key and no certificate; picking a secret that is not a "
        "certificate or CRL would break the connection"
    ]
    assert codes(check(AddVaultSecret("trust", "certobj"), vault=vault)) == ["pkcs12"]
    assert problems(check(AddVaultSecret("trust", "disabled"), vault=vault)) == [
        "vault secret disabled: is disabled in Key Vault; the provider cannot read it"
    ]
    assert problems(check(AddVaultSecret("trust", "listed"), vault=vault)) == [
        "vault secret listed: its value was not read (list the vault with values)"
    ]
    assert problems(check(AddVaultSecret("trust", "badhex"), vault=vault)) == [
        "vault secret badhex: tagged file-encoding=hex but the value is not hex"
    ]
    assert all(
        "correct horse" not in m for m in problems(check(AddVaultSecret("trust", "password"), vault=vault))
    )


def test_add_from_vault_applies_the_file_rules_too() -> None:
    vault = _vault_with(plc2=_hex_secret("plc2", PLC2.der))
    assert problems(check(AddVaultSecret("issuer", "plc2"), vault=vault)) == [
        "issuer/plc2.der (vault secret plc2): only CA certificates can be added to the issuer list "
        "(basicConstraints cA is false or absent)"
    ]
    assert codes(check(AddVaultSecret("trust", "plc2", target_key="plc2.crt"), vault=vault)) == ["format"]
    # Already in a list: the same secret would back two entries.
    assert problems(check(AddVaultSecret("trust", "plc-1-der", target_key="again.der"))) == [
        "trust/again.der (vault secret plc-1-der): the same certificate (SHA-1 "
        f"{_sha1(PLC1)}) is already in the trust list as plc-1.der",
        "trust/again.der (vault secret plc-1-der): vault secret plc-1-der already backs trust/plc-1.der; "
        "choose another secret name",
    ]


# --- Removals -----


def test_remove_names_what_is_not_there() -> None:
    assert check(RemoveEntry("trust", "plc-1.der")).ok
    assert problems(check(RemoveEntry("trust", "nope.der"))) == ["trust/nope.der: not in the trust list"]
    assert problems(check(RemoveEntry("issuer", "plc-1.der"))) == ["issuer/plc-1.der: not in the issuer list"]
    assert problems(
        check(RemoveEntry("trust", "plc-1.der"), RemoveEntry("trust", "plc-1.der", purge=True))
    ) == ["trust/plc-1.der: removed twice in this change set"]
    assert problems(check(RemoveEntry("client", "x.der"))) == [
        "client/x.der: unknown list (use trust or issuer)"
    ]


def test_remove_refuses_an_unmapped_synced_key() -> None:
    site = plan_site()
    site.get(rk.SECRETS, site.namespace, "aio-opc-ua-broker-trust-list")["data"]["manual.crl"] = "AAAA"
    assert problems(check(RemoveEntry("trust", "manual.crl"), site=site)) == [
        "trust/manual.crl: not mapped by the SecretSync (a key put into the synced Secret by other means); "
        "aio-certs only removes mapped entries"
    ]


def test_removing_a_ca_whose_crl_stays_is_a_warning() -> None:
    crl = cg.make_crl(SITE_CA, this_update=NOW).der
    site = plan_site(issuer={"site-ca.crt": SITE_CA.pem, "site-ca.crl": crl})
    v = check(RemoveEntry("issuer", "site-ca.crt"), site=site)
    assert v.ok
    assert warnings(v) == ["issuer/site-ca.crt: its CRL site-ca.crl stays in the list; remove both"]
    assert (
        warnings(check(RemoveEntry("issuer", "site-ca.crt"), RemoveEntry("issuer", "site-ca.crl"), site=site))
        == []
    )


def test_purge_rules() -> None:
    v = check(RemoveEntry("trust", "plc-1.der", purge=True))
    assert v.ok and v.resolved[0].vault_exists is True
    site = plan_site()
    site.vault_files.clear()
    v = check(RemoveEntry("trust", "plc-1.der", purge=True), site=site)
    assert v.ok
    assert warnings(v) == ["trust/plc-1.der: vault secret plc-1-der does not exist; nothing to purge"]
    # A secret that also backs an entry of the other list is not purged from under it.
    shared = plan_site()
    shared.get(rk.SECRET_SYNCS, shared.namespace, "aio-opc-ua-broker-issuer-list")["spec"]["secretObject"][
        "data"
    ].append({"sourcePath": "plc-1-der", "targetKey": "plc-1.der"})
    assert problems(check(RemoveEntry("trust", "plc-1.der", purge=True), site=shared)) == [
        "trust/plc-1.der: vault secret plc-1-der also backs issuer/plc-1.der; remove that too or do not purge"
    ]
    assert problems(
        check(
            RemoveEntry("trust", "plc-1.der", purge=True),
            site=plan_site(),
            other_sources={"plc-1-der": "SecretSync ns/client"},
        )
    ) == [
        "trust/plc-1.der: vault secret plc-1-der also backs SecretSync ns/client; "
        "remove that too or do not purge"
    ]


def test_add_and_remove_of_one_entry_conflict() -> None:
    v = check(RemoveEntry("trust", "plc-1.der"), AddFile("trust", "plc-1.der", PLC2.der, secret_name="new"))
    assert problems(v) == [
        "trust/plc-1.der: also removed in this change set; stage one add with overwrite to replace it"
    ]


# --- Plan-wide -----


def test_plan_wide_problems() -> None:
    assert problems(check()) == ["change set: nothing is staged"]
    assert problems(check(RemoveEntry("trust", "plc-1.der"), read_only=True)) == [
        "aio-certs: read-only mode: nothing can be written"
    ]
    site = plan_site().set_state(rk.SECRET_SYNCS, AreaState.FORBIDDEN, "secretsyncs is forbidden")
    assert problems(check(RemoveEntry("trust", "plc-1.der"), site=site)) == [
        "cluster: the OPC UA lists could not be read (secret-sync.x-k8s.io/v1alpha1/secretsyncs forbidden "
        "(secretsyncs is forbidden)); refusing to plan against unknown state"
    ]
    no_spc = plan_site(trust={}, issuer={}).remove(
        rk.SECRET_PROVIDER_CLASSES, "azure-iot-operations", "opc-ua-connector"
    )
    assert problems(check(AddFile("trust", "plc-2.der", PLC2.der), site=no_spc)) == [
        "cluster: secret sync is not enabled: no SecretProviderClass for the OPC UA lists in namespace "
        "azure-iot-operations"
    ]


def test_unreadable_synced_secrets_are_a_warning_not_a_refusal() -> None:
    site = plan_site().set_state(rk.SECRETS, AreaState.FORBIDDEN, "secrets is forbidden")
    v = check(AddFile("trust", "plc-2.der", PLC2.der), site=site)
    assert v.ok
    assert warnings(v) == [
        "cluster: the synced Secrets could not be read: duplicates are checked against mappings only"
    ]
    # A CRL cannot be checked against a CA whose bytes were not read: refused, with the reason.
    crl = cg.make_crl(SITE_CA, this_update=NOW).der
    assert problems(check(AddFile("issuer", "site-ca.crl", crl), site=site)) == [
        "issuer/site-ca.crl: cannot check the CRL against site-ca.crt: "
        "that entry's certificate is not readable"
    ]


def test_spc_with_unreadable_objects_is_not_edited() -> None:
    site = plan_site()
    site.get(rk.SECRET_PROVIDER_CLASSES, site.namespace, "opc-ua-connector")["spec"]["parameters"][
        "objects"
    ] = "array: [unclosed"
    (message,) = problems(check(AddFile("trust", "plc-2.der", PLC2.der), site=site))
    assert message.startswith(
        "SecretProviderClass azure-iot-operations/opc-ua-connector: cannot edit unreadable "
        "objects (SPC objects: not valid YAML"
    )


def test_lists_on_two_spcs_are_refused() -> None:
    site = plan_site()
    site.add(
        rk.SECRET_SYNCS,
        secret_sync(
            "aio-opc-ua-broker-issuer-list", site.namespace, "other-spc", [("site-ca-crt", "site-ca.crt")]
        ),
    )
    assert codes(check(AddFile("trust", "plc-2.der", PLC2.der), site=site)) == ["spc-split"]


def test_issues_come_in_change_order_with_their_index() -> None:
    v = check(
        AddFile("trust", "aa.pem", PLC2.pem),
        RemoveEntry("trust", "nope.der"),
        AddFile("trust", "bb.txt", PLC3.pem),
    )
    assert [(p.change_index, p.code) for p in v.problems] == [
        (0, "extension"),
        (1, "not-in-list"),
        (2, "extension"),
    ]
    assert [r.ok for r in v.resolved] == [False, False, False]
    assert str(v.problems[0]) == v.problems[0].message
