"""The settings of one command run, made once from the flags, the user's config file and the environment.

A command's ``run`` module reads its config file (:func:`load_user_config`) and turns its parsed
arguments into :class:`Settings` with :func:`command_settings`, at the start of the run; everything after
that (the change flow, the change session, the live feed, the dashboard) takes the typed settings and
never sees the argparse Namespace. The config file folds in here and only here: a flag wins over the
file (``auth``, ``cloud``, ``expiring_days``), except that the file's ``read_only = true`` cannot be
switched off by a flag.

Plain data and the standard library only (with the light model and config modules): ``aio-certs journal``
uses this to find the state directory without importing any cluster or vault client.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tui.cluster.settings import ConnectionSettings
from tui.commands.shared.exits import EXIT_USAGE, Refused
from tui.commands.shared.options import (
    ARM_CA_ENV,
    ARM_ENDPOINT_ENV,
    AUTH_ENV,
    DEFAULT_REQUEST_TIMEOUT,
    DEFAULT_WAIT_TIMEOUT,
    NAMESPACE_ENV,
    RESOURCE_GROUP_ENV,
    SUBSCRIPTION_ENV,
    VAULT_CA_ENV,
    VAULT_URL_ENV,
)
from tui.config import ConfigError, StateDirError, UserConfig, load_config, prepare_state_dir, state_dir
from tui.core.model.settings import ModelSettings, parse_issuer_flag, parse_namespace, parse_trust_bundle_flag


class UsageError(ValueError):
    """A flag value is wrong; ``str()`` is one line naming the flag and the reason (exit status 2)."""


@dataclass(frozen=True)
class VaultSettings:
    """Where the Key Vault is and how to sign in; None fields fall back to the environment or the SPC."""

    url: str | None = None  # --vault-url, else AIO_CERTS_VAULT_URL, else derived from the SPC
    auth: str | None = None  # --auth, else auth in the config file, else AIO_CERTS_AUTH, else "default"
    cloud: str | None = None  # --cloud, else cloud in the config file, else the SPC's, else AzureCloud
    ca_bundle: str | None = None  # AIO_CERTS_VAULT_CA


@dataclass(frozen=True)
class ArmSettings:
    """Where the ARM resources behind the lists are; sign-in and cloud are the vault's (``--auth``,
    ``--cloud``). None fields fall back to what the cluster says (docs/domain.md §9.4)."""

    subscription: str | None = None  # --subscription: wins over the cluster's ids
    resource_group: str | None = None  # --resource-group: wins over the cluster's ids
    fallback_subscription: str | None = None  # AZURE_SUBSCRIPTION_ID: only when the cluster names none
    fallback_resource_group: str | None = None  # AZURE_RESOURCE_GROUP: likewise
    endpoint: str | None = None  # AIO_CERTS_ARM_ENDPOINT, else the cloud's
    ca_bundle: str | None = None  # AIO_CERTS_ARM_CA


@dataclass(frozen=True)
class ChangeOptions:
    """How a change command goes about it: ``--dry-run``, ``--yes``, ``--json``, ``--wait-timeout``."""

    dry_run: bool = False
    yes: bool = False
    json: bool = False
    wait_timeout: float = DEFAULT_WAIT_TIMEOUT
    """Seconds to wait for the synced Secret (for ``renew --wait``: for the new revision); 0: no wait."""
    local_only: bool = False
    """``--local-only``: write the cluster copy of ARM-owned list objects when ARM cannot be written
    (drift, audited; the next portal or CLI change undoes it). ``--read-only`` still refuses."""


@dataclass(frozen=True)
class Settings:
    """Everything a site-reading command run was told, typed: where the cluster and the vault are, how
    the model reads the site, how long requests may take, whether writes are allowed, where journals
    and the audit log live, and how a change goes about it."""

    state_dir: Path
    """The journal and audit directory (:func:`tui.config.state_dir`), not yet created or checked."""
    connection: ConnectionSettings = field(default_factory=ConnectionSettings)
    vault: VaultSettings = VaultSettings()
    arm: ArmSettings = ArmSettings()
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT
    read_only: bool = False
    """``--read-only``, or ``read_only = true`` in the config file."""
    change: ChangeOptions = ChangeOptions()
    model_or_problem: ModelSettings | UsageError = field(default_factory=ModelSettings)
    """The site flags made into ModelSettings, or why they could not be (see :attr:`model`)."""

    @property
    def model(self) -> ModelSettings:
        """How the model reads the site (``-n``, ``--issuer``, ``--trust-bundle``, ``--expiring-days``...).

        Bad site flags are found when the settings are made but raised (:class:`UsageError`, one line
        naming the flag) only here, so each command refuses them where it always has: a change command
        after its state directory is open, so that the refusal is audited.
        """
        if isinstance(self.model_or_problem, UsageError):
            raise UsageError(str(self.model_or_problem))
        return self.model_or_problem

    @property
    def timeouts(self) -> tuple[float, float]:
        """``(connect, read)`` timeouts of a cluster request: the connect part at most 5 s."""
        return min(5.0, self.request_timeout), self.request_timeout


def command_settings(
    args: argparse.Namespace, config: UserConfig, environ: Mapping[str, str] | None = None
) -> Settings:
    """The settings of this run: the flags ``args`` holds, folded with ``config`` and the environment.

    A flag a command does not take has its default; a flag the command takes but the user left out
    takes the config file's value (``auth``, ``cloud``, ``expiring_days``); ``read_only`` is on when
    either says so. Never raises: bad site flags are kept for :attr:`Settings.model` to raise.
    """
    env = os.environ if environ is None else environ
    flags = vars(args)
    expiring_days = _flag_or_file(flags, config, "expiring_days")
    return Settings(
        state_dir=state_dir(config, environ=env),
        connection=ConnectionSettings(kubeconfig=flags.get("kubeconfig"), context=flags.get("context")),
        vault=VaultSettings(
            url=flags.get("vault_url") or env.get(VAULT_URL_ENV, "").strip() or None,
            auth=_flag_or_file(flags, config, "auth") or env.get(AUTH_ENV, "").strip() or None,
            cloud=_flag_or_file(flags, config, "cloud"),
            ca_bundle=env.get(VAULT_CA_ENV, "").strip() or None,
        ),
        arm=ArmSettings(
            subscription=flags.get("subscription"),
            resource_group=flags.get("resource_group"),
            fallback_subscription=env.get(SUBSCRIPTION_ENV, "").strip() or None,
            fallback_resource_group=env.get(RESOURCE_GROUP_ENV, "").strip() or None,
            endpoint=env.get(ARM_ENDPOINT_ENV, "").strip() or None,
            ca_bundle=env.get(ARM_CA_ENV, "").strip() or None,
        ),
        request_timeout=flags.get("request_timeout", DEFAULT_REQUEST_TIMEOUT),
        read_only=bool(flags.get("read_only", False)) or config.read_only,
        change=ChangeOptions(
            dry_run=bool(flags.get("dry_run", False)),
            yes=bool(flags.get("yes", False)),
            json=bool(flags.get("json", False)),
            wait_timeout=flags.get("wait_timeout", DEFAULT_WAIT_TIMEOUT),
            local_only=bool(flags.get("local_only", False)),
        ),
        model_or_problem=_model(flags, expiring_days, env),
    )


def _flag_or_file(flags: Mapping[str, Any], config: UserConfig, name: str) -> Any:
    """The flag's value; the config file's when the command takes the flag and it was not given."""
    value = flags.get(name)
    if value is None and name in flags:
        return getattr(config, name)
    return value


def _model(
    flags: Mapping[str, Any], expiring_days: str | None, env: Mapping[str, str]
) -> ModelSettings | UsageError:
    try:
        return model_settings(
            namespace=flags.get("namespace") or env.get(NAMESPACE_ENV),
            cert_manager_namespace=flags.get("cert_manager_namespace"),
            issuer=flags.get("issuer"),
            trust_bundle=flags.get("trust_bundle"),
            expiring_days=expiring_days,
        )
    except UsageError as exc:
        return exc


def model_settings(
    *,
    namespace: str | None = None,
    cert_manager_namespace: str | None = None,
    issuer: str | None = None,
    trust_bundle: str | None = None,
    expiring_days: str | None = None,
) -> ModelSettings:
    """The site flags as given, made into :class:`~tui.core.model.settings.ModelSettings`.

    ``namespace`` is ``-n`` or else ``$AIO_CERTS_NAMESPACE`` (which lets ``source DIR/env`` of a demo
    seeded under another namespace point every command at it without repeating ``-n``). Raises
    :class:`UsageError` (one line naming the flag) on a bad value.
    """
    fields: dict[str, Any] = {}
    try:
        if namespace:
            fields["namespace"] = parse_namespace(namespace)
        if issuer:
            fields["issuer_override"] = parse_issuer_flag(issuer)
        if trust_bundle:
            fields["trust_bundle_override"] = parse_trust_bundle_flag(trust_bundle)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if cert_manager_namespace:
        try:
            fields["cert_manager_namespace"] = parse_namespace(cert_manager_namespace)
        except ValueError:
            raise UsageError(
                f"--cert-manager-namespace: {cert_manager_namespace!r} is not a valid namespace name"
            ) from None
    if expiring_days:
        warn, critical = parse_expiring_days(expiring_days)
        fields["expiring_warn_days"], fields["expiring_critical_days"] = warn, critical
    try:
        return ModelSettings(**fields)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def parse_expiring_days(text: str) -> tuple[int, int]:
    """Parse ``--expiring-days WARN/CRIT`` (``30/7``) into two non-negative integers."""
    warn, sep, crit = text.strip().partition("/")
    try:
        if not sep:
            raise ValueError
        values = int(warn), int(crit)
    except ValueError:
        raise UsageError(f"--expiring-days: expected WARN/CRIT in days such as 30/7, got {text!r}") from None
    if min(values) < 0:
        raise UsageError(f"--expiring-days: days must not be negative, got {text!r}")
    if values[1] > values[0]:
        raise UsageError(f"--expiring-days: critical ({values[1]}) must not exceed warning ({values[0]})")
    return values


def load_user_config() -> UserConfig:
    """Read the configuration file (see :mod:`tui.config`).

    Raises :class:`~tui.commands.shared.exits.Refused` with exit status 2 when the file is unusable.
    """
    try:
        return load_config()
    except ConfigError as exc:
        raise Refused(str(exc), EXIT_USAGE) from None


def state_directory(path: Path, *, create: bool = True) -> Path:
    """The journal and audit directory ``path`` (:attr:`Settings.state_dir`), created and checked by
    :func:`tui.config.prepare_state_dir` (``create=False``: checked only, for listings).

    Raises :class:`~tui.commands.shared.exits.Refused` (exit 1, one line naming the path and why) when
    another user could write to it or it is not a directory.
    """
    try:
        return prepare_state_dir(path, create=create)
    except StateDirError as exc:
        raise Refused(str(exc)) from None


def check_timeouts(settings: Settings) -> None:
    """Check ``--request-timeout`` and ``--wait-timeout``; raise
    :class:`~tui.commands.shared.exits.Refused` (exit 2) if bad."""
    if settings.request_timeout <= 0:
        raise Refused("--request-timeout: must be a positive number of seconds", EXIT_USAGE)
    if settings.change.wait_timeout < 0:
        raise Refused("--wait-timeout: must not be negative", EXIT_USAGE)


def refuse_if_read_only(settings: Settings, what: str) -> None:
    """Raise :class:`~tui.commands.shared.exits.Refused` when read-only mode is on (flag or config file)
    and ``what`` would write."""
    if settings.read_only:
        raise Refused(
            f"{what}: refused, read-only mode is on (--read-only or read_only in the config "
            "file); nothing was changed"
        )
