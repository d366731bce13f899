"""Validation of a staged change set against the cluster and the vault, before anything is written.

:func:`validate` applies every rule of the change engine and returns the changes made concrete
(:class:`Resolved`: target key, secret name, decoded content) plus one :class:`Issue` per problem
(refusal) or warning, each a single line naming the file or entry and the reason.

The official ``az iot ops connector opcua`` rules (docs/domain.md §7) are matched: extensions per list, what
each extension must hold, only CA certificates in the issuer list, a ``.crl`` only next to its CA's
``.crt``/``.der`` (stem match), secret names ``^[0-9a-zA-Z-]+$``, no expired certificates. Beyond them:
no private key or PKCS#12, the CRL must really be signed by that CA, no certificate twice in a list,
exact name collisions (Key Vault names compared case-insensitively, as Key Vault does) instead of the
official suffix match, a vault secret must hold a certificate or CRL, and warnings for chains that cannot
be built, not-yet-valid certificates and a CA removed while its CRL stays.

Rules are evaluated on the lists *as they will be*: removals first, then certificates, then CRLs, so a
CA staged in the same set satisfies its CRL whatever the staging order.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from tui.core.certs import crl_is_stale, crl_signed_by
from tui.core.certs.model import CertificateInfo, CrlInfo
from tui.core.changes.changeset import (
    LIST_NAMES,
    AddFile,
    AddVaultSecret,
    Change,
    ChangeSet,
    RemoveEntry,
    derived_target_key,
)
from tui.core.changes.file_rules import (
    PKCS12_CONTENT_TYPE,
    FileContent,
    ca_rule,
    extension,
    extension_case_warning,
    extension_problem,
    format_problem,
    name_problem,
    read_content,
    secret_name_problem,
    suggested_target_key,
    validity_rule,
    vault_value,
    vault_value_problem,
)
from tui.core.model import resources as rk
from tui.core.model.names import OPCUA_LISTS
from tui.core.model.sizes import WARN_FRACTION, percent
from tui.core.model.snapshot import AreaState, VaultSecret
from tui.core.model.spc import SpcObject, SpcView
from tui.core.model.state import SECRET_DATA_LIMIT, Area, ClusterState, OpcUaEntry
from tui.core.text import printable


@dataclass(frozen=True)
class Issue:
    """One problem (refusal) or warning about a change, as one line naming the file or entry."""

    code: str
    """Machine-readable rule, e.g. ``extension``, ``expired``, ``name-collision``."""
    subject: str
    """What it is about: ``trust/plc-1.der``, ``vault secret plc-1-der``..."""
    message: str
    """The whole line, subject first: ``trust/plc-1.txt: extension .txt is not allowed ...``."""
    change_index: int | None = None
    """Index of the change in the change set it belongs to; None for plan-wide issues."""

    def __str__(self) -> str:
        return self.message

    def to_json(self) -> dict[str, object]:
        """JSON object."""
        return {
            "code": self.code,
            "subject": self.subject,
            "message": self.message,
            "change_index": self.change_index,
        }


@dataclass(frozen=True)
class Resolved:
    """One change made concrete: which entry, which secret, what content."""

    index: int
    """Position of the change in the change set."""
    change: Change
    list_name: str
    target_key: str | None
    """The entry's file name; None when it could not be determined (a problem says why)."""
    secret_name: str | None
    """Add: the secret behind the new entry. Remove: the entry's sourcePath (None for an unmapped key)."""
    data: bytes | None = field(default=None, repr=False)
    """File bytes to write to Key Vault (AddFile only)."""
    content: FileContent | None = None
    object_encoding: str = "hex"
    """SPC objectEncoding the entry needs (hex unless an added vault secret is stored otherwise)."""
    vault_exists: bool | None = None
    """The secret exists in Key Vault (None when the vault was not read)."""
    replaces_source: str | None = None
    """AddFile with overwrite of an existing entry: that entry's current sourcePath."""
    ok: bool = True
    """No problem was found for this change."""
    size: int | None = None
    """Bytes of the file an add puts into the synced Secret; None for a removal, or when unknown."""

    @property
    def is_add(self) -> bool:
        """True for AddFile and AddVaultSecret."""
        return not isinstance(self.change, RemoveEntry)

    @property
    def entry_key(self) -> str | None:
        """Row key ``list/targetKey``."""
        return f"{self.list_name}/{self.target_key}" if self.target_key is not None else None


@dataclass(frozen=True)
class Validation:
    """Outcome of :func:`validate`: the resolved changes, the problems and the warnings."""

    resolved: tuple[Resolved, ...]
    problems: tuple[Issue, ...]
    warnings: tuple[Issue, ...]

    @property
    def ok(self) -> bool:
        """No problems."""
        return not self.problems


@dataclass
class _Item:
    """An entry of a list as it will be after the changes (existing or staged)."""

    list_name: str
    target_key: str
    source: str | None
    certificate: CertificateInfo | None
    crl: CrlInfo | None
    staged: bool = False
    readable: bool = True
    """False for an existing entry whose content is unknown (not synced, undecodable)."""
    size: int | None = None
    """Bytes the entry holds (or will hold) in the synced Secret; None when unknown."""


def _item_of(entry: OpcUaEntry, vault: Mapping[str, VaultSecret] | None) -> _Item:
    readable = entry.certificate is not None or entry.crl is not None
    size = entry.size
    if size is None and entry.mapped and entry.source_path and vault is not None:
        # Mapped but not synced yet: the next sync writes what the vault holds.
        secret = vault.get(entry.source_path.lower())
        payload = vault_value(secret).payload if secret is not None else None
        size = len(payload) if payload is not None else None
    return _Item(
        entry.list_name,
        entry.target_key,
        entry.source_path if entry.mapped else None,
        entry.certificate,
        entry.crl,
        readable=readable,
        size=size,
    )


def effective_encoding(encoding: str | None) -> str:
    """The ``objectEncoding`` the provider applies: unset means ``utf-8`` (docs/domain.md §5.1)."""
    return (encoding or "utf-8").strip().lower()


def reads_as(obj: SpcObject, encoding: str) -> bool:
    """Whether the SPC object already yields a secret's file decoded with ``encoding``, unaliased."""
    return (
        obj.object_type == "secret"
        and effective_encoding(obj.object_encoding) == effective_encoding(encoding)
        and obj.object_alias is None
    )


class _Checker:
    """Runs the rules over one change set; collects issues in change order."""

    def __init__(
        self,
        changes: ChangeSet,
        state: ClusterState,
        vault: Mapping[str, VaultSecret] | None,
        now: datetime,
        other_sources: Mapping[str, str],
        previous: Sequence[Resolved] | None,
        deleted_secrets: Iterable[str] = (),
        overwrite_values: bool = False,
    ) -> None:
        self.changes = changes
        self.overwrite_values = overwrite_values
        self.deleted = {name.lower() for name in deleted_secrets}
        self.state = state
        self.now = now
        # Re-planning after a 409: the vault is done, some cluster edits may be too.
        self.previous = {r.index: r for r in previous} if previous is not None else None
        self.cluster_only = previous is not None
        self.vault = {k.lower(): v for k, v in vault.items()} if vault is not None else None
        self.other_sources = {k.lower(): v for k, v in other_sources.items()}
        self.issues: list[tuple[int, int, str, Issue]] = []
        self.lists: dict[str, dict[str, _Item]] = {
            name: {e.target_key: _item_of(e, self.vault) for e in state.entries(name)} for name in LIST_NAMES
        }
        self.original = {name: dict(items) for name, items in self.lists.items()}
        self.original_keys = {f"{name}/{key}" for name, items in self.lists.items() for key in items}
        self.removed: dict[str, int] = {}
        self.added: dict[str, int] = {}
        self.staged_secrets: dict[str, tuple[int, str]] = {}
        self.bad: set[int] = set()

    # -- reporting --

    def error(self, index: int | None, code: str, subject: str, reason: str) -> None:
        """Record a problem; the change it belongs to is not applied to the projected lists."""
        if index is not None:
            self.bad.add(index)
        self._add("error", index, code, subject, reason)

    def warn(self, index: int | None, code: str, subject: str, reason: str) -> None:
        """Record a warning."""
        self._add("warning", index, code, subject, reason)

    def _add(self, severity: str, index: int | None, code: str, subject: str, reason: str) -> None:
        order = -1 if index is None else index
        # The subject quotes a name the user typed or a file is called: escaped, so it cannot drive a
        # terminal or split the one-line message.
        line = f"{printable(subject)}: {reason}"
        self.issues.append((order, len(self.issues), severity, Issue(code, subject, line, index)))

    # -- lookups --

    def mapped_users(self, secret: str, *, staged: bool = True) -> list[str]:
        """Entry keys (both lists, as they will be) whose mapping uses ``secret`` (case-insensitive)."""
        wanted = secret.lower()
        out = []
        for items in self.lists.values():
            for item in items.values():
                if not staged and item.staged:
                    continue
                if item.source is not None and item.source.lower() == wanted:
                    out.append(f"{item.list_name}/{item.target_key}")
        return out

    def find_thumbprint(self, list_name: str, content: FileContent, skip: str) -> str | None:
        """Target key of an entry of the list holding the same certificate (SHA-1 or SHA-256) or CRL."""
        for item in self.lists[list_name].values():
            if item.target_key == skip:
                continue
            if (
                content.certificate is not None
                and item.certificate is not None
                and (
                    item.certificate.sha256 == content.certificate.sha256
                    or item.certificate.sha1 == content.certificate.sha1
                )
            ):
                return item.target_key
            if content.crl is not None and item.crl is not None and item.crl.sha256 == content.crl.sha256:
                return item.target_key
        return None

    def spc_alias_user(self, secret: str) -> str | None:
        """objectName of an SPC object that writes a file called ``secret`` under another name (alias)."""
        spc = self.spc_view()
        if spc is None:
            return None
        obj = spc.object_for_file(secret)
        if obj is not None and obj.object_name != secret:
            return obj.object_name
        return None

    def spc_view(self) -> SpcView | None:
        """The SPC the OPC UA lists use (None when there is none)."""
        name = self.state.opcua_spc
        return next((s for s in self.state.spcs if s.name == name), None)

    # -- the rules --

    def plan_wide(self) -> bool:
        """Checks that make the whole set inapplicable; False when nothing else can be judged."""
        if not self.changes:
            self.error(None, "empty", "change set", "nothing is staged")
        area = self.state.area(Area.OPC_UA)
        unread = [(key, s) for key, s in area.parts if s.state is not AreaState.OK and key != rk.SECRETS.key]
        if unread:
            detail = "; ".join(
                f"{key} {s.state.value}" + (f" ({s.message})" if s.message else "") for key, s in unread
            )
            self.error(
                None,
                "cluster-unreadable",
                "cluster",
                f"the OPC UA lists could not be read ({detail}); refusing to plan against unknown state",
            )
            return False
        if any(key == rk.SECRETS.key and s.state is not AreaState.OK for key, s in area.parts):
            self.warn(
                None,
                "secrets-unreadable",
                "cluster",
                "the synced Secrets could not be read: duplicates are checked against mappings only",
            )
        spc = self.spc_view()
        if self.state.opcua_spc is None:
            self.error(
                None,
                "no-spc",
                "cluster",
                f"secret sync is not enabled: no SecretProviderClass for the OPC UA lists in "
                f"namespace {self.state.namespace}",
            )
            return False
        if spc is None:
            self.error(
                None,
                "no-spc",
                f"SecretProviderClass {self.state.namespace}/{self.state.opcua_spc}",
                "named by the SecretSyncs but not found",
            )
            return False
        error = spc.objects_error
        if error:
            self.error(
                None,
                "spc-objects",
                f"SecretProviderClass {spc.key}",
                f"cannot edit unreadable objects ({error})",
            )
            return False
        used = {s.spc_name for s in self.state.syncs if s.present and s.spc_name}
        if len(used) > 1:
            self.error(
                None,
                "spc-split",
                "cluster",
                "the trust and issuer lists use different SecretProviderClasses "
                f"({', '.join(sorted(used))}); aio-certs edits one",
            )
            return False
        return True

    def remove(self, index: int, change: RemoveEntry) -> Resolved:
        subject = f"{change.list_name}/{change.target_key}"
        if change.list_name not in LIST_NAMES:
            self.error(index, "list", subject, "unknown list (use trust or issuer)")
            return Resolved(index, change, change.list_name, change.target_key, None, ok=False)
        key = subject
        if key in self.removed:
            self.error(index, "conflict", subject, "removed twice in this change set")
            return Resolved(index, change, change.list_name, change.target_key, None, ok=False)
        item = self.original[change.list_name].get(change.target_key)
        before = self.previous.get(index) if self.previous is not None else None
        if item is None and before is not None and before.ok:
            # Gone already: an earlier attempt of this plan removed the mapping before the conflict.
            self.removed[key] = index
            return before
        if item is None:
            self.error(index, "not-in-list", subject, f"not in the {change.list_name} list")
            return Resolved(index, change, change.list_name, change.target_key, None, ok=False)
        if item.source is None:
            self.error(
                index,
                "not-mapped",
                subject,
                "not mapped by the SecretSync (a key put into the synced Secret by other means); "
                "aio-certs only removes mapped entries",
            )
            return Resolved(index, change, change.list_name, change.target_key, None, ok=False)
        exists: bool | None = None
        if change.purge:
            exists = (
                before.vault_exists if before is not None else self.purge_check(index, subject, item.source)
            )
        self.removed[key] = index
        del self.lists[change.list_name][change.target_key]
        return Resolved(index, change, change.list_name, change.target_key, item.source, vault_exists=exists)

    def purge_check(self, index: int, subject: str, secret: str) -> bool | None:
        if self.vault is None:
            if not self.cluster_only:
                self.error(
                    index,
                    "vault-unreadable",
                    subject,
                    f"Key Vault could not be read: cannot purge secret {secret}",
                )
            return None
        if secret.lower() not in self.vault:
            self.warn(
                index, "nothing-to-purge", subject, f"vault secret {secret} does not exist; nothing to purge"
            )
            return False
        return True

    def purge_users(self, resolved: Sequence[Resolved]) -> None:
        """A purged secret must not still back an entry that stays (or another SecretSync)."""
        for r in resolved:
            purged = isinstance(r.change, RemoveEntry) and r.change.purge
            if not purged or r.secret_name is None or not r.ok:
                continue
            users = self.mapped_users(r.secret_name)
            other = self.other_sources.get(r.secret_name.lower())
            if other:
                users.append(other)
            if users:
                self.error(
                    r.index,
                    "purge-in-use",
                    f"{r.list_name}/{r.target_key}",
                    f"vault secret {r.secret_name} also backs {', '.join(users)}; "
                    "remove that too or do not purge",
                )

    def add_common(
        self,
        index: int,
        list_name: str,
        target: str,
        secret: str,
        content: FileContent,
        subject: str,
        overwrite: bool,
    ) -> str | None:
        """Rules shared by both kinds of add; returns the sourcePath the entry replaces (overwrite)."""
        ext_problem = extension_problem(list_name, target)
        if ext_problem:
            self.error(index, "extension", subject, ext_problem)
        else:
            case = extension_case_warning(target)
            if case:
                self.warn(index, "extension-case", subject, case)
        if content.problem is not None:
            self.error(index, content.problem[0], subject, content.problem[1])
            return None
        fmt = format_problem(target, content)
        if fmt:
            self.error(index, "format", subject, fmt)
        if content.certificate is not None:
            verdict = ca_rule(list_name, content.certificate)
            if verdict is not None:
                (self.error if verdict[0] == "error" else self.warn)(index, "not-ca", subject, verdict[1])
            validity = validity_rule(content.certificate, self.now)
            if validity is not None:
                report = self.error if validity[0] == "error" else self.warn
                report(index, validity[1], subject, validity[2])
        if content.crl is not None and crl_is_stale(content.crl, self.now):
            self.warn(index, "crl-stale", subject, "CRL is past its nextUpdate; the connector may reject it")
        key = f"{list_name}/{target}"
        if key in self.removed:
            self.error(
                index,
                "conflict",
                subject,
                "also removed in this change set; stage one add with overwrite to replace it",
            )
        if key in self.added:
            self.error(index, "conflict", subject, "added twice in this change set")
        existing = self.original[list_name].get(target) if key not in self.removed else None
        replaces: str | None = None
        if (
            existing is not None
            and self.cluster_only
            and existing.source == secret
            and _same_or_unknown(existing, content)
        ):
            existing = None  # this plan's own mapping, made before the conflict
        if existing is not None:
            if not overwrite:
                behind = f" (vault secret {existing.source})" if existing.source else ""
                self.error(
                    index,
                    "name-collision",
                    subject,
                    f"already in the {list_name} list{behind}; --overwrite replaces it",
                )
            else:
                replaces = existing.source
        duplicate = self.find_thumbprint(list_name, content, skip=target if key in self.original_keys else "")
        if duplicate is not None:
            what = (
                f"certificate (SHA-1 {content.sha1})"
                if content.certificate is not None
                else f"CRL (SHA-256 {content.sha256})"
            )
            self.error(
                index,
                "duplicate",
                subject,
                f"the same {what} is already in the {list_name} list as {duplicate}",
            )
        users = [u for u in self.mapped_users(secret, staged=False) if u != key]
        if users:
            self.error(
                index,
                "secret-in-use",
                subject,
                f"vault secret {secret} already backs {', '.join(users)}; choose another secret name",
            )
        staged = self.staged_secrets.get(secret.lower())
        if staged is not None:
            self.error(
                index, "conflict", subject, f"vault secret {secret} is also used by {staged[1]} in this set"
            )
        alias = self.spc_alias_user(secret)
        if alias is not None:
            self.error(
                index,
                "name-collision",
                subject,
                f"the SPC object {alias} already writes a file named {secret}",
            )
        return replaces

    def add_file(self, index: int, change: AddFile) -> Resolved:
        subject = f"{change.list_name}/{change.file_name}"
        secret = change.effective_secret_name
        if change.list_name not in LIST_NAMES:
            self.error(index, "list", subject, "unknown list (use trust or issuer)")
            return Resolved(index, change, change.list_name, None, secret, ok=False)
        problem = name_problem(change.file_name)
        if problem and "/" not in change.file_name and "\\" not in change.file_name:
            # Say how to go on (trial finding 22): the entry's name need not be the file's.
            suggestion = suggested_target_key(change.file_name) or "NAME"
            problem += f"; name the entry with --target-key {suggestion} (in the dialog: its Entry field)"
        if problem:
            self.error(index, "file-name", subject, problem)
        problem = secret_name_problem(secret)
        if problem:
            self.error(index, "secret-name", subject, f"{problem} (got '{printable(secret)}')")
        content = read_content(change.data, change.file_name)
        size = vault_value_problem(len(change.data))
        if size:
            self.error(index, "too-large", subject, size)
        return Resolved(
            index,
            change,
            change.list_name,
            change.file_name,
            secret,
            data=change.data,
            content=content,
            size=len(change.data),
        )

    def vault_collision(self, index: int, subject: str, secret: str, overwrite: bool) -> bool | None:
        if self.cluster_only:
            return None
        if self.vault is None:
            self.error(
                index,
                "vault-unreadable",
                subject,
                f"Key Vault could not be read: cannot tell whether secret {secret} exists",
            )
            return None
        existing = self.vault.get(secret.lower())
        if existing is None:
            if secret.lower() in self.deleted:
                # The service refuses the name (409) until the deleted secret is recovered or purged; say
                # so now rather than when the apply reaches the vault write.
                self.error(
                    index,
                    "secret-deleted",
                    subject,
                    f"vault secret {secret} is deleted but recoverable (soft delete); recover it "
                    "(az keyvault secret recover) or purge it first, or choose another secret name",
                )
            return False
        shown = secret if existing.name == secret else f"{secret} (as {existing.name})"
        if not overwrite:
            self.error(
                index,
                "name-collision",
                subject,
                f"vault secret {shown} already exists; --overwrite replaces it",
            )
        elif existing.value is not None:
            held = vault_value(existing)
            content = read_content(held.payload, existing.name) if held.payload is not None else None
            if content is None or content.kind is None:
                self.error(
                    index,
                    "overwrite-non-certificate",
                    subject,
                    f"vault secret {shown} holds no certificate or CRL; refusing to overwrite it",
                )
        elif self.overwrite_values:
            # Whatever the name holds must be judged before it is replaced: a password or a private key
            # under a certificate-like name is lost for good once overwritten.
            why = "it is disabled" if not existing.enabled else "its value could not be read"
            self.error(
                index,
                "overwrite-unchecked",
                subject,
                f"vault secret {shown} cannot be checked before overwriting ({why}); refusing to "
                "overwrite it",
            )
        return True

    def add_vault(self, index: int, change: AddVaultSecret) -> Resolved:
        subject = f"vault secret {change.secret_name}"
        fail = Resolved(index, change, change.list_name, change.target_key, change.secret_name, ok=False)
        if change.list_name not in LIST_NAMES:
            self.error(index, "list", subject, "unknown list (use trust or issuer)")
            return fail
        problem = secret_name_problem(change.secret_name)
        if problem:
            self.error(index, "secret-name", subject, problem)
            return fail
        before = self.previous.get(index) if self.previous is not None else None
        if before is not None:
            return self.add_vault_again(before)
        if self.vault is None:
            self.error(index, "vault-unreadable", subject, "Key Vault could not be read")
            return fail
        secret = self.vault.get(change.secret_name.lower())
        if secret is None:
            self.error(index, "vault-missing", subject, "not found in Key Vault")
            return fail
        if not secret.enabled:
            self.error(
                index, "vault-disabled", subject, "is disabled in Key Vault; the provider cannot read it"
            )
            return fail
        if (secret.content_type or "").lower() == PKCS12_CONTENT_TYPE:
            self.error(
                index,
                "pkcs12",
                subject,
                "is the PKCS#12 secret of a Key Vault certificate object; certificates for the lists "
                "must be stored as secrets (az keyvault secret set --encoding hex)",
            )
            return fail
        held = vault_value(secret)
        if held.payload is None:
            self.error(index, "vault-value", subject, held.problem or "unreadable value")
            return fail
        content = read_content(held.payload, secret.name)
        if content.kind is None and content.problem is not None:
            self.error(
                index,
                content.problem[0],
                subject,
                f"{content.problem[1]}; picking a secret that is not a certificate or CRL would break "
                "the connection",
            )
            return fail
        assert content.kind is not None
        target = change.target_key or derived_target_key(secret.name, content.kind)
        problem = name_problem(target)
        if problem:
            where = f"{change.list_name}/{target} (vault secret {secret.name})"
            self.error(index, "file-name", where, problem)
        return Resolved(
            index,
            change,
            change.list_name,
            target,
            secret.name,
            content=content,
            object_encoding=held.object_encoding or "hex",
            vault_exists=True,
            size=len(held.payload),
        )

    def add_vault_again(self, before: Resolved) -> Resolved:
        """Re-check a vault add resolved by an earlier plan (the secret itself is not read again)."""
        if not before.ok or before.content is None or before.target_key is None or before.secret_name is None:
            return _with_ok(before, False)
        return before

    def finish(self, r: Resolved) -> Resolved:
        """The rules that compare an add with the lists as they will be; then stage it for the next ones."""
        if r.content is None or r.target_key is None or r.secret_name is None:
            return r
        if isinstance(r.change, AddFile):
            subject, overwrite = f"{r.list_name}/{r.target_key}", r.change.overwrite
        else:
            subject, overwrite = f"{r.list_name}/{r.target_key} (vault secret {r.secret_name})", False
        replaces = self.add_common(
            r.index, r.list_name, r.target_key, r.secret_name, r.content, subject, overwrite
        )
        self.shared_rules(r, subject)
        if r.index not in self.bad and r.content.crl is not None:
            self.crl_rules(r)
        exists = r.vault_exists
        if isinstance(r.change, AddFile):
            exists = self.vault_collision(r.index, subject, r.secret_name, overwrite)
        content = r.content
        r = dataclasses.replace(r, replaces_source=replaces, vault_exists=exists)
        if r.index not in self.bad and content.kind is not None:
            self.stage(r)
        return r

    def shared_rules(self, r: Resolved, subject: str) -> None:
        """An add must leave what another SecretSync reads from the same SPC as it is (the client
        certificate's, or other components' on the instance's default SPC, docs/domain.md §2.5): no
        upload over a secret it maps, and no mapping that needs its SPC object read another way."""
        assert r.secret_name is not None
        other = self.other_sources.get(r.secret_name.lower())
        if other is None:
            return
        if isinstance(r.change, AddFile):
            self.error(
                r.index,
                "secret-shared",
                subject,
                f"vault secret {r.secret_name} is used by {other}, which is not an OPC UA list; writing it "
                "would change what that SecretSync syncs; choose another secret name",
            )
            return
        spc = self.spc_view()
        obj = spc.object_for_file(r.secret_name) if spc is not None else None
        if obj is not None and not reads_as(obj, r.object_encoding):
            self.error(
                r.index,
                "secret-shared",
                subject,
                f"the SPC object {obj.object_name} is read as {obj.object_type} "
                f"({effective_encoding(obj.object_encoding)}) for {other}; this list needs it as secret "
                f"({r.object_encoding}), which would change what that SecretSync syncs",
            )

    def stage(self, r: Resolved) -> None:
        """Put a valid add into the projected list so later rules see it."""
        assert r.target_key is not None and r.secret_name is not None and r.content is not None
        key = f"{r.list_name}/{r.target_key}"
        self.added[key] = r.index
        self.staged_secrets[r.secret_name.lower()] = (r.index, key)
        self.lists[r.list_name][r.target_key] = _Item(
            r.list_name,
            r.target_key,
            r.secret_name,
            r.content.certificate,
            r.content.crl,
            staged=True,
            size=r.size,
        )

    def crl_rules(self, r: Resolved) -> None:
        """A CRL needs its CA as ``<stem>.crt``/``<stem>.der`` in the issuer list, and that CA's signature."""
        assert r.target_key is not None and r.content is not None and r.content.crl is not None
        subject = f"{r.list_name}/{r.target_key}"
        stem = r.target_key.rsplit(".", 1)[0]
        ca = next(
            (
                item
                for key, item in sorted(self.lists[r.list_name].items())
                if key.rsplit(".", 1)[0] == stem and extension(key) in (".crt", ".der")
            ),
            None,
        )
        if ca is None:
            self.error(
                r.index,
                "crl-without-ca",
                subject,
                f"its CA must be in the {r.list_name} list as {stem}.crt or {stem}.der "
                "(already, or staged in this change set)",
            )
            return
        if ca.certificate is None:
            self.error(
                r.index,
                "crl-signature",
                subject,
                f"cannot check the CRL against {ca.target_key}: that entry's certificate is not readable",
            )
            return
        if not crl_signed_by(r.content.crl, ca.certificate):
            why = (
                "issued by " + r.content.crl.issuer + ", not by " + ca.certificate.subject
                if r.content.crl.issuer != ca.certificate.subject
                else "its signature does not verify"
            )
            self.error(r.index, "crl-signature", subject, f"not signed by the CA in {ca.target_key} ({why})")

    def chain_warnings(self, resolved: Sequence[Resolved]) -> None:
        """Warn when a staged certificate's issuer is in neither list (the chain cannot be built)."""
        items = [item for group in self.lists.values() for item in group.values()]
        if any(not item.readable for item in items):
            return  # an entry whose bytes are unknown may well be the issuer: no guessing
        subjects = {item.certificate.subject for item in items if item.certificate is not None}
        for r in resolved:
            cert = r.content.certificate if r.content is not None else None
            if not r.is_add or not r.ok or cert is None or cert.self_signed or cert.issuer in subjects:
                continue
            where = "a leaf" if not cert.is_ca else "a CA"
            self.warn(
                r.index,
                "issuer-missing",
                f"{r.list_name}/{r.target_key}",
                f"{where} issued by {cert.issuer}, which is in neither list; add that CA to the issuer "
                "list so the connector can build the chain",
            )

    def removal_warnings(self, resolved: Sequence[Resolved]) -> None:
        """Warn when a removed CA leaves its CRL behind (the official help says remove both)."""
        for r in resolved:
            if not isinstance(r.change, RemoveEntry) or not r.ok or r.target_key is None:
                continue
            entry = self.state.entry(f"{r.list_name}/{r.target_key}")
            if entry is None or entry.certificate is None:
                continue
            stem = r.target_key.rsplit(".", 1)[0]
            staying = [
                item.target_key
                for item in self.lists[r.list_name].values()
                if item.crl is not None
                and not item.staged
                and (
                    item.target_key.rsplit(".", 1)[0] == stem
                    or (entry.crl_key == f"{item.list_name}/{item.target_key}")
                )
            ]
            if staying:
                self.warn(
                    r.index,
                    "crl-stays",
                    f"{r.list_name}/{r.target_key}",
                    f"its CRL {', '.join(sorted(staying))} stays in the list; remove both",
                )

    def size_rule(self, resolved: Sequence[Resolved]) -> None:
        """A list must fit in its synced Secret: the API server refuses a Secret whose data (the decoded
        values) exceeds 1 MiB, so the sync controller could not write it and the list would stop updating
        (docs/domain.md §1.2). A plan that grows a list past the limit is refused in one line; one that
        leaves it at 80 % or more is warned about. Entries whose size is unknown count as nothing, so the
        sum is a lower bound: a refusal is certain, a pass is not (the warning says so)."""
        for name in LIST_NAMES:
            adds = [r.index for r in resolved if r.list_name == name and r.is_add and r.index not in self.bad]
            touched = adds or any(r.list_name == name and not r.is_add and r.ok for r in resolved)
            if not touched:
                continue
            after = _list_size(self.lists[name].values())
            before = _list_size(self.original[name].values())
            secret = OPCUA_LISTS[name]
            what = f"{'at least ' if after.unknown else ''}{after.total} bytes"
            if after.total > SECRET_DATA_LIMIT and after.total > before.total:
                self.bad.update(adds)
                self.error(
                    None,
                    "secret-too-large",
                    f"{name} list",
                    f"after this plan its synced Secret {secret} would hold {what} of data, over the "
                    f"{SECRET_DATA_LIMIT} bytes (1 MiB) a Secret may hold; the API server would refuse it "
                    "and the list would stop updating; remove entries or add fewer",
                )
            elif after.total >= WARN_FRACTION * SECRET_DATA_LIMIT:
                share = percent(after.total)
                self.warn(
                    None,
                    "secret-size",
                    f"{name} list",
                    f"after this plan its synced Secret {secret} holds {what} of data, {share}% of the "
                    f"{SECRET_DATA_LIMIT} bytes (1 MiB) a Secret may hold"
                    + (f"; {after.unknown} entry size(s) unknown" if after.unknown else ""),
                )

    def run(self, read_only: bool) -> Validation:
        if read_only:
            self.error(None, "read-only", "aio-certs", "read-only mode: nothing can be written")
        if not self.plan_wide():
            failed = tuple(
                Resolved(i, c, c.list_name, None, None, ok=False) for i, c in enumerate(self.changes)
            )
            return self.result(failed)
        results: dict[int, Resolved] = {}
        for i, change in enumerate(self.changes):
            if isinstance(change, RemoveEntry):
                results[i] = self.remove(i, change)
        adds = []
        for i, change in enumerate(self.changes):
            if isinstance(change, AddFile):
                adds.append(self.add_file(i, change))
            elif isinstance(change, AddVaultSecret):
                adds.append(self.add_vault(i, change))
        # Certificates first, so a CA staged after its CRL still counts for it.
        for r in sorted(adds, key=lambda r: (r.content is not None and r.content.crl is not None, r.index)):
            results[r.index] = self.finish(r)
        ordered = [results[i] for i in range(len(self.changes))]
        self.purge_users(ordered)
        self.size_rule(ordered)
        self.chain_warnings(ordered)
        self.removal_warnings(ordered)
        final = tuple(_with_ok(r, r.ok and r.index not in self.bad) for r in ordered)
        return self.result(final)

    def result(self, resolved: tuple[Resolved, ...]) -> Validation:
        ordered = sorted(self.issues, key=lambda t: (t[0], t[1]))
        return Validation(
            resolved=resolved,
            problems=tuple(i for _, _, sev, i in ordered if sev == "error"),
            warnings=tuple(i for _, _, sev, i in ordered if sev == "warning"),
        )


@dataclass(frozen=True)
class _Size:
    total: int
    """Sum of the known entry sizes."""
    unknown: int
    """Entries whose size is not known."""


def _list_size(items: Iterable[_Item]) -> _Size:
    total = unknown = 0
    for item in items:
        if item.size is None:
            unknown += 1
        else:
            total += item.size
    return _Size(total, unknown)


def _same_or_unknown(item: _Item, content: FileContent) -> bool:
    """The entry holds this content, or its synced content is not known (yet)."""
    held = (
        item.certificate.sha256
        if item.certificate is not None
        else (item.crl.sha256 if item.crl is not None else None)
    )
    return held is None or held == content.sha256


def _with_ok(r: Resolved, ok: bool) -> Resolved:
    return r if r.ok == ok else dataclasses.replace(r, ok=ok)


def validate(
    changes: ChangeSet,
    state: ClusterState,
    *,
    vault_secrets: Mapping[str, VaultSecret] | None,
    now: datetime,
    read_only: bool = False,
    other_sources: Mapping[str, str] | None = None,
    previous: Sequence[Resolved] | None = None,
    deleted_secrets: Iterable[str] = (),
    overwrite_values: bool = False,
) -> Validation:
    """Check every change against the state (and the vault) and resolve it.

    ``vault_secrets`` maps secret names to secrets (values needed for "add from Key Vault" and for the
    overwrite check); None means the vault could not be read, a problem for every change that needs it.
    ``other_sources`` maps secret names used by SecretSyncs other than the two lists (the client
    certificate's) to a description, so a purge cannot break them. ``previous`` is the resolution of an
    earlier plan of the same set: re-planning after a 409 skips the vault rules (the vault writes are
    done), takes vault adds as they were resolved, and accepts that this plan's own cluster edits may
    already be in place. ``deleted_secrets`` names secrets known to be soft-deleted in the vault: a new
    secret cannot take such a name until it is recovered or purged. ``overwrite_values`` says that
    ``vault_secrets`` holds the value of every secret an add would overwrite (a plan about to be
    applied): an overwrite whose value is missing is then refused rather than waved through; a live
    check over a listing without values leaves that to the plan.
    """
    checker = _Checker(
        changes, state, vault_secrets, now, other_sources or {}, previous, deleted_secrets, overwrite_values
    )
    return checker.run(read_only)
