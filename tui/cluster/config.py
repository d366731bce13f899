"""Connect to a cluster the way kubectl does: ``--kubeconfig``, ``KUBECONFIG``, ``--context``, in-cluster.

The kubernetes client's own loader does the heavy lifting (auth plugins, client certificates, relative
file paths); this module picks the files, checks them first so that every mistake becomes one line
naming the file or context and the reason, and returns a ready :class:`ClusterConnection`.

The kubernetes client (~0.15 s to import) is imported by :func:`load_cluster_config`, not with this
module: :func:`check_cluster_config` runs the same checks without it, so ``status`` can say what is wrong
with a kubeconfig, or start its vault listing, before paying for the import.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from tui.cluster.settings import ConnectionSettings
from tui.core.text import printable

if TYPE_CHECKING:
    from kubernetes.client import ApiClient, Configuration

DEFAULT_KUBECONFIG = "~/.kube/config"
SERVICE_ACCOUNT_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")
IN_CLUSTER_CONTEXT = "in-cluster"
# Reflectors hold one connection each for their watches, plus parallel lists; the client's default
# (5 per CPU) would make urllib3 drop and re-open connections on a two-core host.
POOL_SIZE = 48


class ClusterConfigError(Exception):
    """The cluster connection could not be configured; ``str()`` is one line naming what and why."""


@dataclass(frozen=True)
class ClusterConnection:
    """A configured kubernetes ApiClient plus what the user should see about where it points."""

    api_client: ApiClient
    context: str
    server: str
    namespace: str | None  # the context's default namespace; None when the context sets none
    insecure: bool = False
    """TLS verification of the API server is off (``insecure-skip-tls-verify`` in the kubeconfig)."""

    @property
    def warning(self) -> str | None:
        """One line to show before anything else when the connection is not what it seems, or None."""
        if not self.insecure:
            return None
        return (
            f"warning: TLS verification is off for the cluster at {printable(self.server)} (context "
            f"'{printable(self.context)}' sets insecure-skip-tls-verify): anyone on the path could "
            "answer as the API server"
        )

    def close(self) -> None:
        """Release the client's connection pool."""
        self.api_client.close()


def _kubeconfig_paths(kubeconfig: str | None, environ: Mapping[str, str]) -> tuple[list[Path], str]:
    """Return the files to merge and where the choice came from (for error messages).

    Like kubectl: an explicit ``--kubeconfig`` must exist; missing entries of ``KUBECONFIG`` are skipped;
    the default file may be absent (then in-cluster config is tried).
    """
    if kubeconfig:
        path = Path(kubeconfig).expanduser()
        if not path.is_file():
            raise ClusterConfigError(f"kubeconfig {kubeconfig}: no such file")
        return [path], "--kubeconfig"
    env_value = environ.get("KUBECONFIG", "")
    if env_value.strip():
        candidates = [Path(p).expanduser() for p in env_value.split(os.pathsep) if p.strip()]
        existing = [p for p in candidates if p.is_file()]
        if not existing:
            raise ClusterConfigError(f"KUBECONFIG={env_value}: none of these files exist")
        return existing, "KUBECONFIG"
    home = Path(environ["HOME"]) if environ.get("HOME") else Path.home()
    default = home / ".kube" / "config"
    return ([default] if default.is_file() else []), DEFAULT_KUBECONFIG


def _read_yaml(path: Path) -> dict[str, Any]:
    """Load one kubeconfig file, turning every problem into a one-line error."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ClusterConfigError(f"kubeconfig {path}: cannot read ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise ClusterConfigError(f"kubeconfig {path}: not UTF-8 text") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "syntax error"
        raise ClusterConfigError(f"kubeconfig {path}: not valid YAML{where} ({problem})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ClusterConfigError(f"kubeconfig {path}: expected a mapping, found {type(data).__name__}")
    for section in ("clusters", "contexts", "users"):
        value = data.get(section)
        if value is not None and not isinstance(value, list):
            raise ClusterConfigError(f"kubeconfig {path}: '{section}' must be a list")
        for entry in value or []:
            if not isinstance(entry, dict) or "name" not in entry:
                raise ClusterConfigError(f"kubeconfig {path}: every entry of '{section}' needs a name")
    return data


def _find_named(docs: list[dict[str, Any]], section: str, name: str) -> dict[str, Any] | None:
    """First entry called ``name`` across the files (kubectl: the first file to define it wins)."""
    for doc in docs:
        for entry in doc.get(section) or []:
            if entry.get("name") == name:
                return entry
    return None


def _configure(configuration: Configuration) -> Configuration:
    from urllib3.util.retry import Retry

    configuration.connection_pool_maxsize = POOL_SIZE
    # One quick reconnect, never a re-read: reflectors have their own backoff, and urllib3's default
    # (three retries of everything) would make `status` take four connect timeouts to give up.
    configuration.retries = Retry(total=2, connect=1, read=0, status=0, other=0, backoff_factor=0)
    return configuration


@dataclass(frozen=True)
class _Chosen:
    """A kubeconfig context that passed the checks: what the loader is then given."""

    paths: list[Path]
    context: str
    shown: str
    server: str
    namespace: str | None
    plugin: bool = False
    """The context's credentials come from an ``exec`` or ``auth-provider`` plugin, which the client runs
    when it loads them and which may write to the terminal or ask its user something."""


def _check_kubeconfig(paths: list[Path], origin: str, context: str | None) -> _Chosen:
    docs = [_read_yaml(p) for p in paths]
    contexts = [e["name"] for d in docs for e in d.get("contexts") or []]
    if context is None:
        # kubectl takes current-context from the first file that sets one.
        context = next((d["current-context"] for d in docs if d.get("current-context")), None)
        if context is None:
            available = ", ".join(printable(str(c)) for c in contexts) or "none defined"
            raise ClusterConfigError(
                f"kubeconfig ({origin}): no current-context set; pass --context (available: {available})"
            )
    entry = _find_named(docs, "contexts", context)
    # Names from the kubeconfig are quoted escaped: a context called "aio\x1b]0;x\x07" must not
    # drive the terminal that reads the error.
    shown = printable(str(context))
    if entry is None:
        available = ", ".join(printable(str(c)) for c in contexts) or "none defined"
        raise ClusterConfigError(f"context '{shown}' not found in kubeconfig (available: {available})")
    body = entry.get("context") or {}
    cluster_name = body.get("cluster")
    cluster = _find_named(docs, "clusters", cluster_name) if cluster_name else None
    if cluster is None or not (cluster.get("cluster") or {}).get("server"):
        raise ClusterConfigError(
            f"context '{shown}': cluster '{printable(str(cluster_name))}' has no server in kubeconfig"
        )
    server = str(cluster["cluster"]["server"]).rstrip("/")
    user_name = body.get("user")
    user = _find_named(docs, "users", user_name) if user_name else None
    credentials = (user or {}).get("user") or {}
    plugin = isinstance(credentials, dict) and any(credentials.get(k) for k in ("exec", "auth-provider"))
    return _Chosen(paths, str(context), shown, server, body.get("namespace") or None, plugin)


def _from_kubeconfig(chosen: _Chosen) -> ClusterConnection:
    from kubernetes.client import ApiClient, Configuration
    from kubernetes.config.config_exception import ConfigException
    from kubernetes.config.kube_config import KubeConfigLoader, KubeConfigMerger
    from urllib3.exceptions import InsecureRequestWarning

    try:
        merged = KubeConfigMerger(os.pathsep.join(str(p) for p in chosen.paths)).config
        loader = KubeConfigLoader(config_dict=merged, active_context=chosen.context, config_base_path=None)
        configuration = Configuration()
        loader.load_and_set(configuration)
    except (ConfigException, OSError, ValueError, KeyError, TypeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ClusterConfigError(f"context '{chosen.shown}': {first}") from None
    insecure = not configuration.verify_ssl
    if insecure:
        # The user turned verification off for this cluster (insecure-skip-tls-verify): the command
        # says so once (ClusterConnection.insecure); urllib3 would add a warning per request, 34 lines
        # of them before a one-line error.
        warnings.filterwarnings("ignore", category=InsecureRequestWarning)
    return ClusterConnection(
        ApiClient(_configure(configuration)),
        chosen.context,
        chosen.server,
        chosen.namespace,
        insecure=insecure,
    )


def _in_cluster(environ: Mapping[str, str], service_account_dir: Path) -> ClusterConnection:
    from kubernetes.client import ApiClient, Configuration
    from kubernetes.config.config_exception import ConfigException
    from kubernetes.config.incluster_config import InClusterConfigLoader

    loader = InClusterConfigLoader(
        token_filename=str(service_account_dir / "token"),
        cert_filename=str(service_account_dir / "ca.crt"),
        environ=environ,
    )
    configuration = Configuration()
    try:
        loader.load_and_set(configuration)
    except (ConfigException, OSError) as exc:
        raise ClusterConfigError(f"in-cluster config: {exc}") from None
    ns_file = service_account_dir / "namespace"
    try:
        namespace = ns_file.read_text(encoding="utf-8").strip() or None
    except OSError:
        namespace = None
    return ClusterConnection(
        ApiClient(_configure(configuration)), IN_CLUSTER_CONTEXT, configuration.host, namespace
    )


def load_cluster_config(
    kubeconfig: str | None = None,
    context: str | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    service_account_dir: Path = SERVICE_ACCOUNT_DIR,
) -> ClusterConnection:
    """Build a connection from ``--kubeconfig``/``KUBECONFIG``/``~/.kube/config``, else in-cluster config.

    Raises :class:`ClusterConfigError` (one line) on a missing file, bad YAML, an unknown context or an
    incomplete entry. Nothing is sent to the cluster here.
    """
    env = os.environ if environ is None else environ
    chosen = _checked(kubeconfig, context, env)
    if chosen is not None:
        return _from_kubeconfig(chosen)
    return _in_cluster(env, service_account_dir)


def check_cluster_config(
    kubeconfig: str | None = None, context: str | None = None, *, environ: Mapping[str, str] | None = None
) -> bool:
    """Run the checks :func:`load_cluster_config` runs before it loads anything, without importing the
    kubernetes client: the same :class:`ClusterConfigError` for a missing file, bad YAML, an unknown
    context, an incomplete entry or no configuration at all. What only the client's loader finds (an
    unreadable client certificate, a failing exec plugin) is left to :func:`load_cluster_config`.

    Returns whether loading the context's credentials runs a plugin (``exec`` or ``auth-provider``):
    something that may write to the terminal or ask its user, so it must not run while a full-screen app
    holds the terminal."""
    chosen = _checked(kubeconfig, context, os.environ if environ is None else environ)
    return chosen is not None and chosen.plugin


def _checked(kubeconfig: str | None, context: str | None, env: Mapping[str, str]) -> _Chosen | None:
    """The kubeconfig context to load, or None for in-cluster configuration; raises as documented."""
    paths, origin = _kubeconfig_paths(kubeconfig, env)
    if paths:
        return _check_kubeconfig(paths, origin, context)
    if env.get("KUBERNETES_SERVICE_HOST"):
        if context is not None:
            raise ClusterConfigError(f"context '{printable(context)}': no kubeconfig found to look it up in")
        return None
    raise ClusterConfigError(
        f"no kubeconfig: {DEFAULT_KUBECONFIG} does not exist and this is not a pod "
        "(set KUBECONFIG or pass --kubeconfig)"
    )


@dataclass(frozen=True)
class KubeContext:
    """One context of the kubeconfig, as the dashboard's context switch lists it."""

    name: str
    cluster: str
    server: str
    """The cluster's server URL; empty when the context's cluster has none."""
    namespace: str | None
    current: bool
    """The kubeconfig's current-context (kubectl's default)."""


def list_contexts(
    kubeconfig: str | None = None, *, environ: Mapping[str, str] | None = None
) -> tuple[tuple[KubeContext, ...], str]:
    """Every context of the kubeconfig, read afresh (a reload), and where the files came from.

    Files are chosen as :func:`load_cluster_config` chooses them; the first file to define a context
    wins, as in kubectl. Raises :class:`ClusterConfigError` (one line) when there is no kubeconfig (an
    in-cluster pod has one context only) or a file cannot be read.
    """
    env = os.environ if environ is None else environ
    paths, origin = _kubeconfig_paths(kubeconfig, env)
    if not paths:
        raise ClusterConfigError(f"no kubeconfig to list contexts from ({DEFAULT_KUBECONFIG} does not exist)")
    docs = [_read_yaml(p) for p in paths]
    current = next((d["current-context"] for d in docs if d.get("current-context")), None)
    seen: set[str] = set()
    found = []
    for doc in docs:
        for entry in doc.get("contexts") or []:
            name = str(entry["name"])
            if name in seen:
                continue
            seen.add(name)
            body = entry.get("context") or {}
            cluster_name = str(body.get("cluster") or "")
            cluster = _find_named(docs, "clusters", cluster_name) if cluster_name else None
            server = str(((cluster or {}).get("cluster") or {}).get("server") or "").rstrip("/")
            found.append(
                KubeContext(name, cluster_name, server, body.get("namespace") or None, name == current)
            )
    where = origin if origin != "--kubeconfig" else str(paths[0])
    return tuple(found), where


def connect(settings: ConnectionSettings, *, environ: Mapping[str, str] | None = None) -> ClusterConnection:
    """Shorthand for :func:`load_cluster_config` with command-line settings."""
    return load_cluster_config(settings.kubeconfig, settings.context, environ=environ)
