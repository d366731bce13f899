"""Change plans: the exact vault operations and SPC/SecretSync edits, step order, rebase, diff, JSON, cost."""

from __future__ import annotations

import base64
import json
import time
from datetime import timedelta
from types import MappingProxyType
from typing import Any

from tests import armobjects as ao
from tests import certgen as cg
from tests.plansite import (
    NOW,
    OTHER_CA,
    PLC1,
    PLC2,
    PLC3,
    ROOT,
    SITE_CA,
    SPC_VERSION,
    STRANGER,
    build,
    plan_for,
    plan_site,
)
from tests.rawobjects import quickstart_site, secret_sync
from tui.core.build.assemble import build_state
from tui.core.build.cache import DecodeCache
from tui.core.changes.changeset import AddFile, AddVaultSecret, ChangeSet, RemoveEntry
from tui.core.changes.operations import SpcEdit, Step, StepKind, SyncEdit, VaultDelete, VaultWrite
from tui.core.changes.plan import (
    Plan,
    make_plan,
    rebase_plan,
    stale_entries,
    stale_reasons,
    vault_names_to_check,
)
from tui.core.model import resources as rk
from tui.core.model.settings import ModelSettings
from tui.core.model.snapshot import VaultSecret
from tui.core.model.spc import SpcObject, cli_object, parse_objects, serialize_objects

NS = "azure-iot-operations"
TRUST = "aio-opc-ua-broker-trust-list"
ISSUER = "aio-opc-ua-broker-issuer-list"
SPC = "opc-ua-connector"
HEX_TAG = {"file-encoding": "hex"}
HEX = MappingProxyType(HEX_TAG)
LIMIT = 1024 * 1024


def kinds(plan: Plan) -> list[StepKind]:
    return [s.kind for s in plan.steps]


def objects(*names: str) -> str | None:
    return serialize_objects([cli_object(n) for n in names], style="cli")


def _fp(issued: cg.Issued) -> tuple[str, str]:
    from cryptography.hazmat.primitives import hashes

    return (
        issued.cert.fingerprint(hashes.SHA1()).hex().upper(),
        issued.cert.fingerprint(hashes.SHA256()).hex().upper(),
    )


def test_add_a_der_file_to_the_trust_list() -> None:
    plan = plan_for(plan_site(), AddFile("trust", "plc-2.der", PLC2.der))
    assert plan.applicable and plan.problems == () and plan.warnings == ()
    sha1, sha256 = _fp(PLC2)
    assert plan.vault_writes == (
        VaultWrite(
            "plc-2-der",
            PLC2.der.hex(),
            "application/pkix-cert",
            HEX_TAG,
            PLC2.cert.not_valid_after_utc,
            replaces=False,
            list_name="trust",
            target_key="plc-2.der",
            sha1=sha1,
            sha256=sha256,
        ),
    )
    assert plan.vault_deletes == ()
    assert plan.spc_edit == SpcEdit(
        NS,
        SPC,
        SPC_VERSION,
        objects("plc-1-der", "site-ca-crt"),
        objects("plc-1-der", "site-ca-crt", "plc-2-der"),
        ("plc-2-der",),
        (),
    )
    # The CLI's exact layout: each item a YAML document with sorted keys, quoted inside the array.
    assert plan.spc_edit is not None and plan.spc_edit.after is not None
    assert plan.spc_edit.after.endswith(
        "- 'objectEncoding: hex\n\n      objectName: plc-2-der\n\n      objectType: secret\n\n      '\n"
    )
    assert plan.sync_edits == (
        SyncEdit(
            NS,
            TRUST,
            "trust",
            "601",
            (("plc-1-der", "plc-1.der"),),
            (("plc-1-der", "plc-1.der"), ("plc-2-der", "plc-2.der")),
            "update",
            SPC,
        ),
    )
    assert kinds(plan) == [StepKind.VAULT_WRITE, StepKind.SPC_UPDATE, StepKind.SYNC_UPDATE]
    assert [s.index for s in plan.steps] == [0, 1, 2]
    assert plan.steps[1].op == plan.spc_edit


def test_add_an_issuer_crt_and_its_crl() -> None:
    crl = cg.make_crl(OTHER := cg.make_ca("Line CA"), this_update=NOW)
    plan = plan_for(
        plan_site(), AddFile("issuer", "line-ca.crl", crl.der), AddFile("issuer", "line-ca.crt", OTHER.pem)
    )
    assert plan.applicable, plan.problems
    crt, crl_write = plan.vault_writes[1], plan.vault_writes[0]
    # A CRL has no notAfter: Key Vault gets the plan's time + 180 days, as the newer official CLI sets.
    assert (crl_write.secret_name, crl_write.content_type, crl_write.expires_on, crl_write.value) == (
        "line-ca-crl",
        "application/pkix-crl",
        NOW + timedelta(days=180),
        crl.der.hex(),
    )
    assert crl_write.sha1 is None and crl_write.sha256 == plan.resolved[0].content.sha256  # type: ignore[union-attr]
    assert (crt.secret_name, crt.content_type, crt.expires_on, crt.value) == (
        "line-ca-crt",
        "application/x-pem-file",
        OTHER.cert.not_valid_after_utc,
        OTHER.pem.hex(),
    )
    assert plan.sync_edits == (
        SyncEdit(
            NS,
            ISSUER,
            "issuer",
            "602",
            (("site-ca-crt", "site-ca.crt"),),
            (("site-ca-crt", "site-ca.crt"), ("line-ca-crl", "line-ca.crl"), ("line-ca-crt", "line-ca.crt")),
            "update",
            SPC,
        ),
    )
    assert plan.spc_edit is not None
    assert plan.spc_edit.added == ("line-ca-crl", "line-ca-crt")


def test_add_an_existing_vault_secret_writes_no_vault() -> None:
    site = plan_site()
    site.vault_files["plc-2.der"] = PLC2.der  # as `az iot ops` would have uploaded it
    plan = plan_for(site, AddVaultSecret("trust", "plc-2-der"))
    assert plan.applicable
    assert plan.vault_writes == () and plan.vault_deletes == ()
    assert kinds(plan) == [StepKind.SPC_UPDATE, StepKind.SYNC_UPDATE]
    assert plan.sync_edits[0].after[-1] == ("plc-2-der", "plc-2.der")
    # A PEM secret stored as plain text is read by the provider as utf-8, not hex.
    from tui.core.model.snapshot import VaultSecret

    vault = dict(
        build(site).vault.secrets, plc3=VaultSecret("plc3", PLC3.pem.decode(), "application/x-pem-file")
    )
    plan = plan_for(site, AddVaultSecret("trust", "plc3"), vault_secrets=vault)
    assert plan.spc_edit is not None
    assert parse_objects(plan.spc_edit.after)[-1] == SpcObject("plc3", "secret", "utf-8")
    assert plan.sync_edits[0].after[-1] == ("plc3", "plc3.crt")


def test_a_vault_add_without_a_file_name_plans_the_name_from_its_content() -> None:
    # Issue 13 item 10: the plan said `add issuer/<name from its content>` while its diff said myca.crt;
    # the lines, --json, the journal's description and a rebase all carry the derived name.
    site = plan_site()
    site.vault_files["myca.crt"] = OTHER_CA.pem
    plan = plan_for(site, AddVaultSecret("issuer", "myca-crt"))
    assert plan.applicable, plan.problems
    line = "add issuer/myca.crt from existing vault secret myca-crt"
    assert plan.changes.describe() == (line,)
    assert plan.to_json()["changes"] == [line]
    assert plan.to_json()["entries"][0]["change"] == line
    assert f"  1. {line}\n" in plan.render_diff()
    assert "<" not in plan.render_diff() and "<" not in json.dumps(plan.to_json())
    assert plan.resolved[0].change == AddVaultSecret("issuer", "myca-crt", target_key="myca.crt")
    # The id stays the one of the change set as staged, so the same staging plans to the same id.
    assert plan.plan_id == plan_for(site, AddVaultSecret("issuer", "myca-crt")).plan_id
    again = rebase_plan(plan, build(site).state, raw=build(site).raw)
    assert again.changes.describe() == (line,)


def test_remove_one_entry_unmaps_then_drops_the_spc_object() -> None:
    site = plan_site(trust={"plc-1.der": PLC1.der, "plc-2.der": PLC2.der})
    plan = plan_for(site, RemoveEntry("trust", "plc-1.der"))
    assert plan.applicable
    assert plan.vault_writes == () and plan.vault_deletes == ()
    assert plan.sync_edits == (
        SyncEdit(
            NS,
            TRUST,
            "trust",
            "601",
            (("plc-1-der", "plc-1.der"), ("plc-2-der", "plc-2.der")),
            (("plc-2-der", "plc-2.der"),),
            "update",
            SPC,
        ),
    )
    assert plan.spc_edit == SpcEdit(
        NS,
        SPC,
        SPC_VERSION,
        objects("plc-1-der", "plc-2-der", "site-ca-crt"),
        objects("plc-2-der", "site-ca-crt"),
        (),
        ("plc-1-der",),
    )
    # The mapping goes before the object it reads, so the controller never misses a file.
    assert kinds(plan) == [StepKind.SYNC_UPDATE, StepKind.SPC_UPDATE]
    assert plan.steps[1].op == plan.spc_edit


def test_removing_the_last_entry_deletes_the_secret_sync() -> None:
    plan = plan_for(plan_site(), RemoveEntry("trust", "plc-1.der"))
    assert plan.sync_edits == (
        SyncEdit(NS, TRUST, "trust", "601", (("plc-1-der", "plc-1.der"),), (), "delete", SPC),
    )
    assert kinds(plan) == [StepKind.SYNC_DELETE, StepKind.SPC_UPDATE]
    # With nothing left anywhere, the objects property is dropped and the SPC kept (as the CLI does).
    plan = plan_for(plan_site(issuer={}), RemoveEntry("trust", "plc-1.der"))
    assert plan.spc_edit is not None and plan.spc_edit.after is None
    assert "(parameters.objects is dropped: no object left; the SPC itself is kept)" in plan.render_diff()


def test_purge_deletes_the_secret_last() -> None:
    plan = plan_for(plan_site(), RemoveEntry("trust", "plc-1.der", purge=True))
    assert plan.vault_deletes == (VaultDelete("plc-1-der", True, "trust", "plc-1.der"),)
    assert kinds(plan) == [StepKind.SYNC_DELETE, StepKind.SPC_UPDATE, StepKind.VAULT_DELETE]
    site = plan_site()
    site.vault_files.clear()
    assert plan_for(site, RemoveEntry("trust", "plc-1.der", purge=True)).vault_deletes == ()


def test_overwrite_with_the_same_secret_forces_a_sync() -> None:
    plan = plan_for(plan_site(), AddFile("trust", "plc-1.der", PLC3.der, overwrite=True))
    assert plan.applicable
    (write,) = plan.vault_writes
    assert (write.secret_name, write.replaces, write.value) == ("plc-1-der", True, PLC3.der.hex())
    assert plan.spc_edit is None
    pairs = (("plc-1-der", "plc-1.der"),)
    assert plan.sync_edits == (
        SyncEdit(
            NS,
            TRUST,
            "trust",
            "601",
            pairs,
            pairs,
            "update",
            SPC,
            force_synchronization=f"aio-certs-{plan.plan_id}-0",
        ),
    )
    assert kinds(plan) == [StepKind.VAULT_WRITE, StepKind.SYNC_UPDATE]


def test_overwrite_under_a_new_secret_swaps_mapping_and_object() -> None:
    plan = plan_for(
        plan_site(), AddFile("trust", "plc-1.der", PLC3.der, secret_name="plc-1-v2", overwrite=True)
    )
    assert plan.applicable
    assert plan.vault_writes[0].replaces is False
    assert plan.sync_edits[0].after == (("plc-1-v2", "plc-1.der"),)
    assert plan.sync_edits[0].force_synchronization is None
    assert plan.spc_edit == SpcEdit(
        NS,
        SPC,
        SPC_VERSION,
        objects("plc-1-der", "site-ca-crt"),
        objects("site-ca-crt", "plc-1-v2"),
        ("plc-1-v2",),
        ("plc-1-der",),
    )
    assert kinds(plan) == [
        StepKind.VAULT_WRITE,
        StepKind.SPC_UPDATE,
        StepKind.SYNC_UPDATE,
        StepKind.SPC_UPDATE,
    ]
    grow, shrink = plan.steps[1].op, plan.steps[3].op
    assert isinstance(grow, SpcEdit) and isinstance(shrink, SpcEdit)
    assert grow.after == objects("plc-1-der", "site-ca-crt", "plc-1-v2") == shrink.before
    # The second SPC write is conditional on the version the first one leaves.
    assert (grow.resource_version, shrink.resource_version) == (SPC_VERSION, None)
    assert "~ plc-1-der -> plc-1.der becomes plc-1-v2 -> plc-1.der" in plan.render_diff()


def test_first_entry_of_a_list_creates_its_secret_sync() -> None:
    plan = plan_for(plan_site(issuer={}), AddFile("issuer", "site-ca.crt", SITE_CA.pem))
    assert plan.applicable
    assert plan.sync_edits == (
        SyncEdit(
            NS,
            ISSUER,
            "issuer",
            None,
            (),
            (("site-ca-crt", "site-ca.crt"),),
            "create",
            SPC,
            "aio-ssc-sa",
            "Opaque",
        ),
    )
    assert kinds(plan) == [StepKind.VAULT_WRITE, StepKind.SPC_UPDATE, StepKind.SYNC_CREATE]
    assert (
        "SecretSync azure-iot-operations/aio-opc-ua-broker-issuer-list: create (new), type Opaque, "
        "serviceAccountName aio-ssc-sa, SPC opc-ua-connector" in plan.render_diff()
    )


def test_refused_plans_are_not_applicable() -> None:
    plan = plan_for(
        plan_site(), AddFile("trust", "plc-2.der", PLC2.der), AddFile("trust", "plc-1.der", PLC3.der)
    )
    assert not plan.applicable
    assert [p.code for p in plan.problems] == ["name-collision", "name-collision"]
    assert "Problems (nothing will be written)" in plan.render_diff()
    assert plan.to_json()["applicable"] is False
    read_only = plan_for(plan_site(), AddFile("trust", "plc-2.der", PLC2.der), read_only=True)
    assert not read_only.applicable and read_only.problems[0].code == "read-only"
    assert not plan_for(plan_site()).applicable  # nothing staged


def test_a_secret_name_soft_deleted_in_the_vault_is_refused_at_planning() -> None:
    # The service answers 409 to a write under a deleted-but-recoverable name; refuse before writing.
    changes = (
        AddFile("trust", "plc-2.der", PLC2.der),
        AddFile("trust", "plc-3.der", PLC3.der),
        AddFile("trust", "plc-1.der", PLC3.der, overwrite=True),
    )
    built = build(plan_site())
    # Only names the change set would create and the listing does not hold need looking up.
    assert vault_names_to_check(ChangeSet.of(changes), built.vault.secrets) == ["plc-2-der", "plc-3-der"]
    assert vault_names_to_check(ChangeSet.of(changes), {"PLC-2-DER": built.vault.secrets["plc-1-der"]}) == [
        "plc-3-der",
        "plc-1-der",
    ]
    plan = plan_for(plan_site(), *changes[:2], deleted_secrets=["PLC-3-DER"])
    assert not plan.applicable
    [problem] = plan.problems
    assert problem.code == "secret-deleted" and problem.subject == "trust/plc-3.der"
    assert str(problem) == (
        "trust/plc-3.der: vault secret plc-3-der is deleted but recoverable (soft "
        "delete); recover it (az keyvault secret recover) or purge it first, or choose "
        "another secret name"
    )
    assert plan_for(plan_site(), *changes[:2]).applicable  # the same set, nothing deleted


def test_a_shared_spc_object_is_kept_and_not_purged() -> None:
    site = plan_site()
    site.add(
        rk.SECRET_SYNCS,
        secret_sync("aio-opc-ua-broker-client-certificate", NS, SPC, [("plc-1-der", "x.der")]),
    )
    plan = plan_for(site, RemoveEntry("trust", "plc-1.der"))
    assert plan.applicable and plan.spc_edit is None
    assert kinds(plan) == [StepKind.SYNC_DELETE]
    purge = plan_for(site, RemoveEntry("trust", "plc-1.der", purge=True))
    assert [p.message for p in purge.problems] == [
        "trust/plc-1.der: vault secret plc-1-der also backs SecretSync azure-iot-operations/"
        "aio-opc-ua-broker-client-certificate; remove that too or do not purge"
    ]


DEFAULT_SPC = "spc-ops-ab12cd3"
DATAFLOW_SYNC = "aio-dataflow-credentials"


def _shared_default_spc_site() -> tuple[Any, list[SpcObject]]:
    """The lists in the instance's default SPC, which also holds two other components' objects: one a
    dataflow SecretSync maps, one read as plain text with an alias (as a CSI mount might)."""
    site = quickstart_site(
        NOW,
        ca=ROOT,
        trust={"plc-1.der": PLC1.der},
        issuer_list={"site-ca.crt": SITE_CA.pem},
        spc_name=DEFAULT_SPC,
    )
    theirs = [SpcObject("df-password", "secret"), SpcObject("mqtt-ca", "secret", object_alias="ca.pem")]
    objs = [cli_object("plc-1-der"), theirs[0], cli_object("site-ca-crt"), theirs[1]]
    spc_obj = site.get(rk.SECRET_PROVIDER_CLASSES, NS, DEFAULT_SPC)
    spc_obj["spec"]["parameters"]["objects"] = serialize_objects(objs, style="cli")
    site.add(rk.SECRET_SYNCS, secret_sync(DATAFLOW_SYNC, NS, DEFAULT_SPC, [("df-password", "password")]))
    return site, theirs


def test_a_plan_on_the_shared_default_spc_changes_only_the_lists_objects() -> None:
    # Newer CLIs put the list objects into the instance's default SPC, beside other components' (domain
    # §2.5): a plan adds and removes its own and leaves every other object exactly as it was.
    site, theirs = _shared_default_spc_site()
    plan = plan_for(site, AddFile("trust", "plc-2.der", PLC2.der), RemoveEntry("trust", "plc-1.der"))
    assert plan.applicable, plan.problems
    assert plan.spc_edit is not None and plan.spc_edit.name == DEFAULT_SPC
    after = parse_objects(plan.spc_edit.after)
    assert [o for o in after if o.object_name in ("df-password", "mqtt-ca")] == theirs
    assert [o.object_name for o in after] == ["df-password", "site-ca-crt", "mqtt-ca", "plc-2-der"]
    assert plan.spc_notes == (
        f"{DEFAULT_SPC} is the instance's default SPC, shared with other components: this plan adds and "
        "removes only the OPC UA list objects it names; the 2 other object(s) stay as they are",
    )
    diff = plan.render_diff()
    assert f"  note: {plan.spc_notes[0]}\n" in diff
    assert diff.index(f"SecretProviderClass {NS}/{DEFAULT_SPC}") < diff.index("  note: ")
    assert plan.to_json()["spc_notes"] == list(plan.spc_notes)


def test_an_object_another_secret_sync_maps_stays_and_the_diff_says_why() -> None:
    site, _ = _shared_default_spc_site()
    site.add(rk.SECRET_SYNCS, secret_sync(DATAFLOW_SYNC, NS, DEFAULT_SPC, [("plc-1-der", "plc.der")]))
    plan = plan_for(site, RemoveEntry("trust", "plc-1.der"))
    assert plan.applicable and plan.spc_edit is None
    assert plan.spc_notes == (f"plc-1-der stays: SecretSync {NS}/{DATAFLOW_SYNC} uses it too",)
    assert "SecretProviderClass: unchanged\n  note: plc-1-der stays: SecretSync " in plan.render_diff()


def test_an_object_only_an_arm_secret_sync_maps_stays_too() -> None:
    # ARM may hold a SecretSync reading the SPC that the projection has not put on the cluster yet.
    site = plan_site()
    arm = ao.snapshot(ao.arm_sync(DATAFLOW_SYNC, SPC, [("plc-1-der", "plc.der")]))
    plan = plan_for(site, RemoveEntry("trust", "plc-1.der"), arm=arm)
    assert plan.applicable and plan.spc_edit is None
    assert plan.spc_notes == (f"plc-1-der stays: ARM SecretSync {DATAFLOW_SYNC} uses it too",)


def test_an_add_never_rewrites_or_rereads_what_another_secret_sync_uses() -> None:
    site, _ = _shared_default_spc_site()
    upload = plan_for(site, AddFile("trust", "pw.der", PLC2.der, secret_name="df-password"))
    assert [(p.code, p.message) for p in upload.problems] == [
        (
            "secret-shared",
            f"trust/pw.der: vault secret df-password is used by SecretSync {NS}/{DATAFLOW_SYNC}, which is "
            "not an OPC UA list; writing it would change what that SecretSync syncs; choose another "
            "secret name",
        )
    ]
    # Mapping it as it is read already is sharing, not changing; needing it decoded otherwise is refused.
    site.vault_files["df-password"] = PLC2.der
    built = build(site)
    secrets = dict(built.vault.secrets)
    secrets["df-password"] = VaultSecret(
        "df-password", PLC2.pem.decode(), "application/x-pem-file", MappingProxyType({})
    )
    same = make_plan(
        ChangeSet.of([AddVaultSecret("trust", "df-password", target_key="plc-2.crt")]),
        built.state,
        vault_secrets=secrets,
        raw=built.raw,
        now=NOW,
    )
    assert same.applicable, same.problems
    assert same.spc_edit is None
    secrets["df-password"] = VaultSecret("df-password", PLC2.der.hex(), "application/pkix-cert", HEX)
    other = make_plan(
        ChangeSet.of([AddVaultSecret("trust", "df-password", target_key="plc-2.der")]),
        built.state,
        vault_secrets=secrets,
        raw=built.raw,
        now=NOW,
    )
    assert [p.message for p in other.problems] == [
        "trust/plc-2.der (vault secret df-password): the SPC object df-password is read as secret (utf-8) "
        f"for SecretSync {NS}/{DATAFLOW_SYNC}; this list needs it as secret (hex), which would change "
        "what that SecretSync syncs"
    ]


# --- The 1 MiB a synced Secret may hold -----


def _filled_trust_site(filler: int) -> Any:
    """The default site with a hand-added key of ``filler`` bytes in the trust list's synced Secret."""
    site = plan_site()
    secret = site.get(rk.SECRETS, NS, TRUST)
    secret["data"]["filler.bin"] = base64.b64encode(b"\0" * filler).decode()
    return site


def _trust_bytes(site: Any) -> int:
    data = site.get(rk.SECRETS, NS, TRUST)["data"]
    return sum(len(base64.b64decode(v)) for v in data.values())


def test_a_plan_that_pushes_a_list_over_1_mib_is_refused_in_one_line() -> None:
    # The API server refuses a Secret whose decoded values exceed 1 MiB (docs/domain.md §1.2): the sync
    # could never write the list again, so the plan is refused before anything is written.
    site = _filled_trust_site(LIMIT - len(PLC1.der) - len(PLC2.der) + 1)
    plan = plan_for(site, AddFile("trust", "plc-2.der", PLC2.der))
    assert not plan.applicable
    total = LIMIT + 1
    assert [(p.code, p.message, p.change_index) for p in plan.problems] == [
        (
            "secret-too-large",
            f"trust list: after this plan its synced Secret {TRUST} would hold {total} bytes of data, over "
            f"the {LIMIT} bytes (1 MiB) a Secret may hold; the API server would refuse it and the list "
            "would stop updating; remove entries or add fewer",
            None,
        )
    ]
    assert not plan.resolved[0].ok
    assert "\n" not in plan.problems[0].message


def test_exactly_1_mib_fits_with_a_warning() -> None:
    site = _filled_trust_site(LIMIT - len(PLC1.der) - len(PLC2.der))
    plan = plan_for(site, AddFile("trust", "plc-2.der", PLC2.der))
    assert plan.applicable, plan.problems
    assert [(w.code, w.message) for w in plan.warnings if w.code == "secret-size"] == [
        (
            "secret-size",
            f"trust list: after this plan its synced Secret {TRUST} holds {LIMIT} bytes of data, 100% of "
            f"the {LIMIT} bytes (1 MiB) a Secret may hold",
        )
    ]


def test_a_list_from_80_percent_is_warned_about_and_below_it_not() -> None:
    at_80 = int(0.8 * LIMIT)
    warned = plan_for(_filled_trust_site(at_80), AddFile("trust", "plc-2.der", PLC2.der))
    assert [w.code for w in warned.warnings].count("secret-size") == 1
    assert "80% of the" in next(w.message for w in warned.warnings if w.code == "secret-size")
    below = at_80 - len(PLC1.der) - len(PLC2.der) - 1
    quiet = plan_for(_filled_trust_site(below), AddFile("trust", "plc-2.der", PLC2.der))
    assert quiet.applicable and "secret-size" not in [w.code for w in quiet.warnings]


def test_the_size_rule_counts_only_the_list_it_touches() -> None:
    # The trust list is over the limit already; an issuer-list change is not held hostage to it.
    site = _filled_trust_site(LIMIT)
    plan = plan_for(site, AddFile("issuer", "other-ca.crt", cg.make_ca("Other CA").pem))
    assert plan.applicable, plan.problems
    assert "secret-size" not in [w.code for w in plan.warnings]


def test_removing_from_an_oversized_list_is_allowed() -> None:
    # A list past the limit already must be shrinkable: a removal that leaves it too large still helps.
    site = _filled_trust_site(LIMIT)
    assert _trust_bytes(site) > LIMIT
    plan = plan_for(site, RemoveEntry("trust", "plc-1.der"))
    assert plan.applicable, plan.problems
    assert [w.code for w in plan.warnings].count("secret-size") == 1


def test_an_unsynced_mapped_entry_counts_with_its_vault_bytes() -> None:
    # plc-1.der is mapped and in the vault but not (yet) in the synced Secret: the next sync writes it.
    site = _filled_trust_site(LIMIT - len(PLC1.der) - len(PLC2.der) + 1)
    del site.get(rk.SECRETS, NS, TRUST)["data"]["plc-1.der"]
    plan = plan_for(site, AddFile("trust", "plc-2.der", PLC2.der))
    assert [p.code for p in plan.problems] == ["secret-too-large"]


# --- Azure-managed objects -----


def test_objects_that_only_look_managed_from_arm_are_named_with_what_will_happen() -> None:
    # ARM's markers other than the resourceId annotation: not known to ARM, so written on the cluster,
    # with a warning (docs/domain.md §9.3).
    site = plan_site()
    site.get(rk.SECRET_SYNCS, NS, TRUST)["metadata"]["managedFields"] = [{"manager": "resource-sync-agent"}]
    plan = plan_for(site, AddFile("trust", "plc-2.der", PLC2.der))
    assert plan.applicable  # a warning, not a refusal
    assert plan.arm_managed == (
        "SecretSync azure-iot-operations/aio-opc-ua-broker-trust-list looks managed from Azure Resource "
        "Manager (fields managed by resource-sync-agent): Azure may put its own version back at its next "
        "reconciliation and undo this edit; make the change through Azure (az iot ops connector opcua) or "
        "check it again after applying",
    )
    assert [w.code for w in plan.warnings] == ["arm-managed"]
    site = plan_site()
    site.get(rk.SECRET_SYNCS, NS, TRUST)["metadata"]["ownerReferences"] = [
        {"apiVersion": "secretsynccontroller.azure.com/v1", "kind": "SecretSync", "name": "trust"}
    ]
    assert (
        "owned by SecretSync trust (secretsynccontroller.azure.com)"
        in plan_for(site, AddFile("trust", "plc-2.der", PLC2.der)).arm_managed[0]
    )
    assert plan_for(plan_site(), AddFile("trust", "plc-2.der", PLC2.der)).arm_managed == ()


def test_an_object_naming_its_arm_resource_is_refused_without_arm_and_drifts_with_local_only() -> None:
    site = plan_site()
    site.get(rk.SECRET_PROVIDER_CLASSES, NS, SPC)["metadata"]["annotations"] = {
        "management.azure.com/resourceId": "/subscriptions/0/resourceGroups/rg/providers/"
        "Microsoft.SecretSyncController/azureKeyVaultSecretProviderClasses/opc-ua-connector"
    }
    refused = plan_for(site, AddFile("trust", "plc-2.der", PLC2.der))
    assert [p.code for p in refused.problems] == ["arm-unavailable"]
    assert refused.problems[0].message.startswith(
        "SecretProviderClass azure-iot-operations/opc-ua-connector is managed from Azure Resource Manager, "
        "which cannot be written now (ARM was not read (no ARM access is configured)); nothing was written. "
        "Make the change through Azure: az iot ops connector opcua trust add --instance <instance> -g rg "
        "--certificate-file plc-2.der."
    )
    local = plan_for(site, AddFile("trust", "plc-2.der", PLC2.der), local_only=True)
    assert local.applicable and local.drift == ("SecretProviderClass azure-iot-operations/opc-ua-connector",)
    assert local.arm_managed == (
        "SecretProviderClass azure-iot-operations/opc-ua-connector is managed from Azure Resource Manager "
        "and only its cluster copy is written (--local-only): ARM keeps its own copy, so the next change "
        "made with the portal or az iot ops connector opcua will undo this edit",
    )


# --- 409: rebase -----


def test_rebase_after_someone_else_changed_the_list() -> None:
    plan = plan_for(plan_site(), AddFile("trust", "plc-2.der", PLC2.der))
    theirs = plan_site(trust={"plc-1.der": PLC1.der, "plc-3.der": PLC3.der})
    theirs.get(rk.SECRET_SYNCS, NS, TRUST)["metadata"]["resourceVersion"] = "777"
    theirs.get(rk.SECRET_PROVIDER_CLASSES, NS, SPC)["metadata"]["resourceVersion"] = "778"
    fresh = build(theirs)
    rebased = rebase_plan(plan, fresh.state, raw=fresh.raw)
    assert rebased.applicable and rebased.revision == 1 and rebased.plan_id == plan.plan_id
    assert rebased.vault_writes == plan.vault_writes  # done already: kept for the record...
    assert kinds(rebased) == [StepKind.SPC_UPDATE, StepKind.SYNC_UPDATE]  # ...not redone
    assert rebased.sync_edits == (
        SyncEdit(
            NS,
            TRUST,
            "trust",
            "777",
            (("plc-1-der", "plc-1.der"), ("plc-3-der", "plc-3.der")),
            (("plc-1-der", "plc-1.der"), ("plc-3-der", "plc-3.der"), ("plc-2-der", "plc-2.der")),
            "update",
            SPC,
        ),
    )
    assert rebased.spc_edit is not None and rebased.spc_edit.resource_version == "778"
    assert "rebased 1x" in rebased.render_diff()


def test_rebase_refuses_when_the_change_no_longer_applies() -> None:
    plan = plan_for(plan_site(), AddFile("trust", "plc-2.der", PLC2.der))
    taken = build(plan_site(trust={"plc-1.der": PLC1.der, "plc-2.der": PLC3.der}))
    rebased = rebase_plan(plan, taken.state, raw=taken.raw)
    assert not rebased.applicable
    assert [p.message for p in rebased.problems] == [
        "trust/plc-2.der: already in the trust list (vault secret plc-2-der); --overwrite replaces it"
    ]
    crl = cg.make_crl(SITE_CA, this_update=NOW).der
    plan = plan_for(plan_site(), AddFile("issuer", "site-ca.crl", crl))
    ca_gone = build(plan_site(issuer={"other.crt": cg.make_ca("Other CA").pem}))
    assert [p.code for p in rebase_plan(plan, ca_gone.state).problems] == ["crl-without-ca"]


def test_rebase_does_not_redo_what_landed_before_the_conflict() -> None:
    plan = plan_for(
        plan_site(), AddFile("trust", "plc-2.der", PLC2.der), RemoveEntry("trust", "plc-1.der", purge=True)
    )
    # The SPC grow and the SecretSync update landed; the SPC shrink hit a conflict.
    landed = plan_site(trust={"plc-2.der": PLC2.der})
    spc = landed.get(rk.SECRET_PROVIDER_CLASSES, NS, SPC)
    spc["spec"]["parameters"]["objects"] = objects("plc-1-der", "plc-2-der", "site-ca-crt")
    spc["metadata"]["resourceVersion"] = "900"
    fresh = build(landed)
    rebased = rebase_plan(plan, fresh.state, raw=fresh.raw)
    assert rebased.problems == ()
    assert kinds(rebased) == [StepKind.SPC_UPDATE, StepKind.VAULT_DELETE]
    shrink = rebased.steps[0].op
    assert isinstance(shrink, SpcEdit)
    assert (shrink.resource_version, shrink.removed, shrink.after) == (
        "900",
        ("plc-1-der",),
        objects("plc-2-der", "site-ca-crt"),
    )
    # Everything landed: nothing left but the vault delete.
    done = plan_site(trust={"plc-2.der": PLC2.der})
    rebased = rebase_plan(plan, build(done).state)
    assert kinds(rebased) == [StepKind.VAULT_DELETE] and rebased.problems == ()


# --- Diff and JSON -----

EXPECTED_DIFF = """\
Plan {plan_id} (namespace azure-iot-operations): 4 change(s)
  1. add trust/plc-2.der from a 472-byte file as vault secret plc-2-der
  2. remove trust/plc-1.der and delete + purge its vault secret
  3. add issuer/site-ca.crl from a 232-byte file as vault secret site-ca-crl
  4. add trust/stranger.der from a 475-byte file as vault secret stranger-der

Key Vault
+ set plc-2-der <- trust/plc-2.der (application/pkix-cert, file-encoding=hex, 472 bytes, expires \
2026-01-01 00:00Z)
+ set site-ca-crl <- issuer/site-ca.crl (application/pkix-crl, file-encoding=hex, 232 bytes, expires \
2025-10-08 00:00Z (180 days from now, as the official CLI sets for CRLs))
+ set stranger-der <- trust/stranger.der (application/pkix-cert, file-encoding=hex, 475 bytes, expires \
2026-01-01 00:00Z)
- delete and purge plc-1-der (was trust/plc-1.der)

SecretProviderClass azure-iot-operations/opc-ua-connector (resourceVersion 500)
- plc-1-der (secret, encoding hex)
+ plc-2-der (secret, encoding hex)
+ site-ca-crl (secret, encoding hex)
+ stranger-der (secret, encoding hex)
  (1 object(s) unchanged)

SecretSync azure-iot-operations/aio-opc-ua-broker-trust-list: update (resourceVersion 601)
- plc-1-der -> plc-1.der
+ plc-2-der -> plc-2.der
+ stranger-der -> stranger.der
  (0 mapping(s) unchanged)

SecretSync azure-iot-operations/aio-opc-ua-broker-issuer-list: update (resourceVersion 602)
+ site-ca-crl -> site-ca.crl
  (1 mapping(s) unchanged)

Warnings
! trust/stranger.der: a leaf issued by CN=Other CA,O=aio-certs tests, which is in neither list; add that CA \
to the issuer list so the connector can build the chain
"""


def _composite() -> Plan:
    crl = cg.make_crl(SITE_CA, this_update=NOW).der
    return plan_for(
        plan_site(),
        AddFile("trust", "plc-2.der", PLC2.der),
        RemoveEntry("trust", "plc-1.der", purge=True),
        AddFile("issuer", "site-ca.crl", crl),
        AddFile("trust", "stranger.der", STRANGER.der),
    )


def test_diff_reads_as_expected() -> None:
    plan = _composite()
    assert plan.render_diff() == EXPECTED_DIFF.format(plan_id=plan.plan_id)


def test_plans_are_deterministic() -> None:
    first, second = _composite(), _composite()
    assert first.plan_id == second.plan_id and len(first.plan_id) == 16
    assert first.render_diff() == second.render_diff()
    assert first.to_json() == second.to_json()
    later = plan_for(plan_site(), AddFile("trust", "plc-2.der", PLC2.der))
    assert later.plan_id != first.plan_id


def test_json_is_complete_and_steps_round_trip() -> None:
    plan = _composite()
    data = json.loads(json.dumps(plan.to_json()))
    assert data["plan_id"] == plan.plan_id and data["applicable"] is True
    assert data["created_at"] == "2025-04-11T00:00:00Z"
    assert [e["target_key"] for e in data["entries"]] == [
        "plc-2.der",
        "plc-1.der",
        "site-ca.crl",
        "stranger.der",
    ]
    assert data["entries"][0]["sha1"] == _fp(PLC2)[0]
    assert [w["code"] for w in data["warnings"]] == ["issuer-missing"]
    assert data["vault_writes"][0]["tags"] == HEX_TAG
    assert data["vault_deletes"] == [
        {"secret_name": "plc-1-der", "purge": True, "list_name": "trust", "target_key": "plc-1.der"}
    ]
    assert data["sync_edits"][0]["after"][0] == {"sourcePath": "plc-2-der", "targetKey": "plc-2.der"}
    assert [s["kind"] for s in data["steps"]] == [
        "vault-write",
        "vault-write",
        "vault-write",
        "spc-update",
        "sync-update",
        "sync-update",
        "spc-update",
        "vault-delete",
    ]
    assert tuple(Step.from_json(s) for s in data["steps"]) == plan.steps


# --- Stale entries -----


def test_stale_entries_with_a_reason_each() -> None:
    old = cg.make_leaf(SITE_CA, "old", days=30)
    orphan_crl = cg.make_crl(cg.make_ca("Gone CA"), this_update=NOW)
    site = plan_site(
        trust={"plc-1.der": PLC1.der, "plc-1-copy.der": PLC1.der, "old.der": old.der, "plc-2.der": PLC2.der},
        issuer={"site-ca.crt": SITE_CA.pem, "gone-ca.crl": orphan_crl.der},
    )
    site.vault_files.pop("plc-2.der")  # mapped, but its vault secret is gone
    site.get(rk.SECRETS, NS, TRUST)["data"]["manual.der"] = site.get(rk.SECRETS, NS, TRUST)["data"][
        "plc-1.der"
    ]
    state = build(site).state
    assert stale_reasons(state) == {
        # Of equally healthy copies the one not named a copy is kept; an unmapped copy is never kept.
        "trust/plc-1-copy.der": "duplicate: same certificate as trust/plc-1.der, which is kept",
        # Hand-added (docs/domain.md §5.4): stale only as the duplicate it is, not for being unmapped.
        "trust/manual.der": "duplicate: same certificate as trust/plc-1.der, which is kept",
        "trust/old.der": "expired at 2025-01-31 00:00Z",
        "trust/plc-2.der": "orphaned: mapped, but vault secret plc-2-der is gone",
        "issuer/gone-ca.crl": "CRL whose CA is gone (no CA in the lists signed it)",
    }
    assert stale_entries(state) == tuple(stale_reasons(state))
    assert stale_entries(build(plan_site()).state) == ()


# --- Cost -----


def test_planning_100_additions_against_2000_entries_is_fast() -> None:
    key = cg.make_key("ec", "bulk")
    leaves = [cg.make_leaf(SITE_CA, f"bulk-{i}", key=key) for i in range(2100)]
    site = quickstart_site(
        NOW,
        ca=ROOT,
        trust={f"bulk-{i}.der": leaves[i].der for i in range(1999)},
        issuer_list={"site-ca.crt": SITE_CA.pem},
    )
    raw, vault = site.snapshot(), site.vault_snapshot()
    state = build_state(raw, settings=ModelSettings(), now=NOW, vault=vault, cache=DecodeCache())
    assert len(state.opcua) == 2000
    changes = ChangeSet.of(AddFile("trust", f"new-{i}.der", leaves[2000 + i].der) for i in range(100))
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        plan = make_plan(changes, state, vault_secrets=vault.secrets, now=NOW, raw=raw)
        timings.append(time.perf_counter() - started)
    assert plan.applicable and len(plan.vault_writes) == 100
    assert len(plan.sync_edits[0].after) == 2099
    print(f"plan 100 additions against 2,000 entries: best {min(timings) * 1000:.0f} ms")
    assert min(timings) < 1.0
