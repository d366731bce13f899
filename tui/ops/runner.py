"""From a staged change set to an applied plan, for the CLI and the TUI alike.

:class:`ChangeSession` holds what a change needs: the kubernetes client, the model settings, a way to
get the vault client for a state, the clock and the state directory. It reads the site fresh
(:meth:`ChangeSession.read`), plans (:meth:`ChangeSession.plan`) and applies with the journal and the
audit log (:meth:`ChangeSession.apply`), re-reading on a 409. Interrupted applies are resumed or rolled
back with :meth:`ChangeSession.resume` / :meth:`ChangeSession.rollback`. Confirmation and output are
the caller's: this layer never prompts and never prints.

Where Azure Resource Manager owns the list objects (docs/domain.md §9), the session also reads what ARM
holds (through the ``arm_for`` factory the command layer passes, built on the ARM adapter) and writes
through it; without ARM access a change to those objects is refused at planning, unless the caller
asked for ``local_only``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from azure.keyvault.secrets import SecretClient
from kubernetes.client import ApiClient

from tui.arm.errors import ArmError
from tui.cluster.oneshot import read_once
from tui.cluster.watch_set import unreachable_reason
from tui.cluster.writes import ClusterWriter
from tui.core.build.assemble import build_state
from tui.core.changes.changeset import AddFile, AddVaultSecret, ChangeSet, RemoveEntry
from tui.core.changes.journal import SiteIdentity
from tui.core.changes.plan import Plan, make_plan, vault_names_to_check
from tui.core.clock import Clock
from tui.core.model.arm import ArmKind, ArmResource, ArmSnapshot
from tui.core.model.names import OPCUA_LISTS
from tui.core.model.settings import ModelSettings
from tui.core.model.snapshot import AreaState, RawSnapshot, ResourceStatus, VaultSnapshot
from tui.core.model.state import ClusterState
from tui.ops.apply import ApplyResult, AuditInfo, OnReplan, Progress, apply_plan, audit_info_for
from tui.ops.audit import AuditLog
from tui.ops.journal import JournalInfo, JournalStore
from tui.ops.ports import ArmPort
from tui.ops.resume import resume_apply, rollback_apply
from tui.ops.site import journals_of, read_site, refuse_other_site, site_of
from tui.vault.reader import read_vault_snapshot
from tui.vault.writes import VaultWriter

log = logging.getLogger(__name__)

VaultClientFor = Callable[[ClusterState | None], SecretClient | None]
"""The vault client for a state (the SPC names the vault), or None when no vault is known."""


@dataclass(frozen=True)
class ArmAccess:
    """What the ARM adapter offers a change session for one site (see :data:`ArmFor`)."""

    port: ArmPort | None
    """Reads and guarded writes of the list resources; None when there is no ARM access."""
    read: Callable[[], ArmSnapshot] | None = None
    """Reads what ARM holds of the site's list resources (never raises: failures are its status)."""
    problem: str = ""
    """Why there is no access (no Azure credential, subscription or resource group unknown...)."""
    state: AreaState = AreaState.FORBIDDEN
    """How the missing access reads as a status (FORBIDDEN for credentials, ERROR otherwise)."""


ArmFor = Callable[[ClusterState, RawSnapshot], ArmAccess | None]
"""ARM access for a site as read from the cluster (the objects' ``management.azure.com/resourceId``, the
``azure-arc/azure-clusterconfig`` ConfigMap and the flags say where its resources are); None when the
site uses no ARM at all (no object names an ARM resource and no ids are known). May raise with a
one-line reason."""


class SiteUnavailable(Exception):
    """The cluster or the vault could not be read; ``str()`` is one line. Nothing was written."""


@dataclass(frozen=True)
class Site:
    """One fresh read of the site: the model, the raw objects behind it and the vault."""

    state: ClusterState
    raw: RawSnapshot
    vault: VaultSnapshot | None
    vault_client: SecretClient | None
    arm: ArmSnapshot | None = None
    """What ARM held of the list resources (None: the site uses no ARM, or no factory was given)."""
    arm_port: ArmPort | None = None
    """Writes through ARM (None: no ARM access)."""


def vault_needed(changes: ChangeSet) -> bool:
    """Whether planning or applying ``changes`` touches the vault (every add; removals only to purge)."""
    return any(
        isinstance(c, AddFile | AddVaultSecret) or (isinstance(c, RemoveEntry) and c.purge) for c in changes
    )


def _writer(client: SecretClient | None) -> VaultWriter | None:
    """The vault adapter over ``client`` (None: no vault known)."""
    return VaultWriter(client) if client is not None else None


class ChangeSession:
    """Read, plan and apply changes against one site."""

    def __init__(
        self,
        api_client: ApiClient,
        settings: ModelSettings,
        *,
        clock: Clock,
        state_dir: Path,
        context: str,
        vault_client_for: VaultClientFor,
        timeout: tuple[float, float] = (5.0, 30.0),
        arm_for: ArmFor | None = None,
    ) -> None:
        self.api_client = api_client
        self.settings = settings
        self.clock = clock
        self.state_dir = state_dir
        self.context = context
        self.timeout = timeout
        self._vault_client_for = vault_client_for
        self._arm_for = arm_for
        self.writer = ClusterWriter(api_client, timeout=timeout)
        self.journals = JournalStore(state_dir)
        self.audit = AuditLog(state_dir, clock=clock)
        self._site: SiteIdentity | None = None

    # -- which site -----------------------------------------------------------------------------------

    @property
    def server(self) -> str:
        """The API server URL this session writes through."""
        return str(getattr(self.api_client.configuration, "host", "") or "")

    def identity(self, raw: RawSnapshot | None, vault_client: SecretClient | None) -> SiteIdentity:
        """The site behind this session, from objects just read and the vault client (kept for
        :meth:`site_journals`)."""
        vault_url = getattr(vault_client, "vault_url", None) if vault_client is not None else None
        self._site = site_of(self.server, raw, vault_url)
        return self._site

    def current_site(self) -> SiteIdentity:
        """The site behind this session: read once (the cluster, and the vault URL it names), then kept."""
        if self._site is None:
            state, raw = self.read_cluster()
            try:
                client = self._vault_client_for(state)
            except Exception:  # no usable vault: the identity has none, and compares none
                client = None
            self.identity(raw, client)
        assert self._site is not None
        return self._site

    def site_journals(self, *, every_site: bool = False, pending_only: bool = False) -> list[JournalInfo]:
        """The journals of the site connected now (every journal with ``every_site``; only the
        interrupted or failed ones with ``pending_only``).

        A journal of another site is left out: the dashboard's ``J`` offers to resume what it lists.
        Journals that cannot be read or record no site stay in (see :func:`tui.ops.site.by_site`). The
        site is the one an apply of this session identified, or else one cheap read (the API server and
        the ``kube-system`` UID, no vault): the dashboard asks at start and must not list the cluster
        for it; a resume judges again on the whole site.
        """
        infos = self.journals.infos()
        if pending_only:
            infos = [i for i in infos if i.pending]
        if every_site or not any(i.site is not None for i in infos):
            return infos  # nothing to tell apart: no read
        current = self._site or read_site(self.api_client, self.server, None, timeout=self.timeout)
        return journals_of(infos, current)

    # -- reading ------------------------------------------------------------------------------------

    def read_cluster(self) -> tuple[ClusterState, RawSnapshot]:
        """List the cluster once and build the model; :class:`SiteUnavailable` when it cannot be read."""
        raw = read_once(self.api_client, self.settings, clock=self.clock, timeout=self.timeout)
        reason = unreachable_reason(raw)
        if reason is not None:
            raise SiteUnavailable(f"cannot reach the cluster (context {self.context}): {reason}")
        return build_state(raw, settings=self.settings, now=self.clock.now()), raw

    def read(self, *, vault_values: Iterable[str] = (), need_vault: bool = True) -> Site:
        """The cluster, and the vault's listing plus the values of ``vault_values``.

        With ``need_vault`` an unknown or unreadable vault is :class:`SiteUnavailable`. ARM is read too
        (when the site uses it): an unreadable ARM is the snapshot's status, for the plan to judge.
        """
        state, raw = self.read_cluster()
        arm, arm_port = self.read_arm(state, raw)
        if arm is not None and not need_vault:
            state = build_state(raw, settings=self.settings, now=self.clock.now(), arm=arm)
        try:
            client = self._vault_client_for(state)
        except Exception as exc:  # bad URL, CA file or auth mode: one line, never a traceback
            if need_vault:
                raise SiteUnavailable(f"cannot use the vault: {exc}") from None
            client = None
        if client is None:
            if need_vault:
                raise SiteUnavailable(
                    "no Key Vault is known: the SecretProviderClass names none; set "
                    "--vault-url or AIO_CERTS_VAULT_URL"
                )
            return Site(state, raw, None, None, arm, arm_port)
        if not need_vault:
            return Site(state, raw, None, client, arm, arm_port)
        snapshot = read_vault_snapshot(client, names=tuple(vault_values), clock=self.clock)
        if snapshot.status.state in (AreaState.UNREACHABLE, AreaState.FORBIDDEN) or (
            snapshot.status.state is not AreaState.OK and not snapshot.secrets
        ):
            raise SiteUnavailable(f"cannot read the vault {snapshot.vault_url}: {snapshot.status.message}")
        state = build_state(raw, settings=self.settings, now=self.clock.now(), vault=snapshot, arm=arm)
        return Site(state, raw, snapshot, client, arm, arm_port)

    def reread(self) -> tuple[ClusterState, RawSnapshot | None, ArmSnapshot | None]:
        """A fresh read of the cluster and ARM, for re-planning after a 409 or ARM's 412."""
        state, raw = self.read_cluster()
        arm, _ = self.read_arm(state, raw)
        if arm is not None:
            state = build_state(raw, settings=self.settings, now=self.clock.now(), arm=arm)
        return state, raw, arm

    def arm_access(self, state: ClusterState, raw: RawSnapshot) -> ArmAccess | None:
        """The factory's answer for this site; a failure of the factory is no access, with its reason."""
        if self._arm_for is None:
            return None
        try:
            return self._arm_for(state, raw)
        except Exception as exc:  # bad endpoint, CA file or auth mode: one line, never a traceback
            return ArmAccess(
                None, problem=f"cannot use ARM: {' '.join(str(exc).split())}", state=AreaState.ERROR
            )

    def read_arm(self, state: ClusterState, raw: RawSnapshot) -> tuple[ArmSnapshot | None, ArmPort | None]:
        """What ARM holds of the site's list resources, with an ETag for each the plan may edit, and the
        port to write through; ``(None, None)`` when the site uses no ARM."""
        access = self.arm_access(state, raw)
        if access is None:
            return None, None
        taken = self.clock.now()
        if access.port is None or access.read is None:
            reason = access.problem or "no ARM access"
            return ArmSnapshot(ResourceStatus(access.state, reason, taken), taken_at=taken), None
        snapshot = access.read()
        if not snapshot.readable:
            return snapshot, access.port
        return _with_etags(snapshot, access.port, state), access.port

    # -- planning and applying -----------------------------------------------------------------------

    def plan(
        self, changes: ChangeSet, *, read_only: bool = False, local_only: bool = False
    ) -> tuple[Plan, Site]:
        """Read the site and plan ``changes`` against it (validation included).

        ``local_only`` writes ARM-owned objects on the cluster only (drift, warned and audited) instead
        of refusing the plan when ARM cannot be written."""
        wanted = [c.secret_name for c in changes if isinstance(c, AddVaultSecret)]
        # What an overwrite replaces is read too: the plan refuses to replace anything but a certificate
        # or CRL, and the apply checks the vault still holds that very value before writing.
        wanted += [c.effective_secret_name for c in changes if isinstance(c, AddFile) and c.overwrite]
        site = self.read(vault_values=wanted, need_vault=vault_needed(changes))
        secrets = dict(site.vault.secrets) if site.vault is not None else None
        deleted = [] if secrets is None else self._soft_deleted(site, vault_names_to_check(changes, secrets))
        plan = make_plan(
            changes,
            site.state,
            vault_secrets=secrets,
            now=self.clock.now(),
            read_only=read_only,
            raw=site.raw,
            deleted_secrets=deleted,
            arm=site.arm,
            local_only=local_only,
        )
        return plan, site

    @staticmethod
    def _soft_deleted(site: Site, names: Iterable[str]) -> list[str]:
        """Which of ``names`` sit in the vault's deleted list (a listing does not show them).

        One read per new secret name. A vault that refuses the deleted list, or a read that fails, leaves
        the check to the write itself, whose own one-line error the apply reports.
        """
        client = site.vault_client
        if client is None:
            return []
        try:
            vault = VaultWriter(client)
            return [name for name in names if vault.is_soft_deleted(name)]
        except Exception as exc:  # VaultError or a transport failure: only a head start is lost
            log.debug("looking for soft-deleted secrets failed: %s", type(exc).__name__)
            return []

    def apply(
        self,
        plan: Plan,
        site: Site,
        *,
        action: str,
        progress: Progress,
        wait_timeout: float,
        on_replan: OnReplan | None = None,
    ) -> ApplyResult:
        """Apply an applicable ``plan`` under a new journal, audited as ``action``.

        ``on_replan`` is asked before a revision re-planned after a conflict writes anything (see
        :data:`~tui.ops.apply.OnReplan`); without it the apply goes on."""
        info = audit_info_for(plan, action=action, context=self.context, state=site.state)
        return apply_plan(
            plan,
            kube=self.writer,
            vault=_writer(site.vault_client),
            journal=self.journals,
            audit=self.audit,
            clock=self.clock,
            progress=progress,
            wait_timeout=wait_timeout,
            audit_info=info,
            reread=self.reread,
            arm=site.arm_port,
            on_replan=on_replan,
            site=self.identity(site.raw, site.vault_client),
        )

    def _ports_for_journal(
        self, journal_id: str, action: str, site_unchecked: bool
    ) -> tuple[VaultWriter | None, ArmPort | None]:
        """The vault and ARM ports a resume or rollback writes through (ARM's: None without access,
        and a step that needs it then fails with one line), once the journal is known to be this
        site's (:class:`~tui.ops.site.OtherSite` otherwise, before anything is written)."""
        state, raw = self.read_cluster()
        try:
            client = self._vault_client_for(state)
        except Exception as exc:  # as in read(): a one-line reason
            raise SiteUnavailable(f"cannot use the vault: {exc}") from None
        current = self.identity(raw, client)
        info = next((i for i in self.journals.infos() if i.id == journal_id), None)
        if info is not None and not info.problem:
            refuse_other_site(info, current, unchecked=site_unchecked, action=action)
        access = self.arm_access(state, raw)
        return _writer(client), access.port if access is not None else None

    def resume(
        self, journal_id: str, *, progress: Progress, wait_timeout: float, site_unchecked: bool = False
    ) -> ApplyResult:
        """Run the remaining steps of an interrupted apply (of this site's journals only, unless
        ``site_unchecked``: the user vouches that the journal is this site's)."""
        vault, arm = self._ports_for_journal(journal_id, "resume", site_unchecked)
        return resume_apply(
            journal_id,
            kube=self.writer,
            vault=vault,
            arm=arm,
            store=self.journals,
            audit=self.audit,
            clock=self.clock,
            progress=progress,
            wait_timeout=wait_timeout,
        )

    def rollback(
        self, journal_id: str, *, progress: Progress, wait_timeout: float, site_unchecked: bool = False
    ) -> ApplyResult:
        """Undo what an interrupted apply did (of this site's journals only, as :meth:`resume`)."""
        vault, arm = self._ports_for_journal(journal_id, "rollback", site_unchecked)
        return rollback_apply(
            journal_id,
            kube=self.writer,
            vault=vault,
            arm=arm,
            store=self.journals,
            audit=self.audit,
            clock=self.clock,
            progress=progress,
            wait_timeout=wait_timeout,
        )

    def record_refusal(
        self, action: str, plan: Plan | None, detail: str, *, outcome: str = "refused"
    ) -> None:
        """Audit a change that was refused or declined (nothing was written)."""
        info: AuditInfo | None = (
            audit_info_for(plan, action=action, context=self.context) if plan is not None else None
        )
        self.audit.record(
            action=action,
            outcome=outcome,
            context=self.context,
            thumbprints=info.thumbprints if info else (),
            vault_secrets=info.vault_secrets if info else (),
            entries=info.entries if info else (),
            plan_id=plan.plan_id if plan else None,
            detail=detail,
            extra=info.extra() if info else None,
        )


def _with_etags(snapshot: ArmSnapshot, port: ArmPort, state: ClusterState) -> ArmSnapshot:
    """``snapshot`` with an ETag on each resource a plan may edit (the OPC UA SPC and list SecretSyncs).

    A listing may carry no per-resource ETag; a write is guarded by one, so each such resource is read
    once more on its own. A read that fails makes the whole snapshot unreadable, with the reason: the
    plan then refuses what ARM owns rather than write without a precondition.
    """
    wanted = [(ArmKind.SPC, state.opcua_spc)] if state.opcua_spc else []
    wanted += [(ArmKind.SECRET_SYNC, name) for name in OPCUA_LISTS.values()]
    resources: dict[tuple[ArmKind, str], ArmResource] = dict(snapshot.resources)
    try:
        for kind, name in wanted:
            held = snapshot.get(kind, name)
            if held is None or held.etag:
                continue
            fresh = port.get(kind, name)
            if fresh is None:
                resources.pop((kind, name.lower()), None)
            else:
                resources[(kind, name.lower())] = fresh
    except ArmError as exc:
        return ArmSnapshot(ResourceStatus(exc.state, str(exc), snapshot.taken_at), snapshot.ids)
    return ArmSnapshot(snapshot.status, snapshot.ids, MappingProxyType(resources), snapshot.taken_at)
