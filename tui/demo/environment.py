"""The embedded AIO site: both emulators, the seeded objects and the simulated controllers, as one unit.

``DemoEnvironment(...).start()`` (or ``with DemoEnvironment(...) as env``) starts the emulated API server,
the Key Vault emulator and the ARM emulator on loopback, seeds them, creates the OPC UA lists through ARM
and lets the Arc projection put their cluster copies in place (unless ``cluster_only_lists``), lets each
controller settle once (so the synced Secrets exist when ``start()`` returns), starts the projection and
the controllers' loops in threads, and writes ``DIR/kubeconfig``, ``DIR/vault-ca.pem``, ``DIR/arm-ca.pem``
and ``DIR/env``. After ``source DIR/env``, ``kubectl`` and every ``aio-certs`` command talk to the demo
exactly as to a site. Each start is a fresh site: nothing is carried over from an earlier run in the same
directory.
"""

from __future__ import annotations

import contextlib
import logging
import shlex
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from types import TracebackType
from typing import Self, TypeVar

from azure.keyvault.secrets import SecretClient

from tui.core.clock import Clock, SystemClock
from tui.core.model import resources as rk
from tui.core.model.names import DEFAULT_NAMESPACE
from tui.demo.apiserver.objects import MAX_SECRET_BYTES
from tui.demo.apiserver.server import ApiServer, start_api_server
from tui.demo.arm.emulator import CA_FILE as ARM_CA_FILE
from tui.demo.arm.emulator import ArmEmulator, start_arm_emulator
from tui.demo.controllers.arc import ArcProjection
from tui.demo.controllers.base import Controller, KubeAccess
from tui.demo.controllers.certmanager import CertManagerController
from tui.demo.controllers.secretsync import SecretSyncController
from tui.demo.controllers.trustmanager import TrustManagerController
from tui.demo.keyvault.vault import KeyVaultEmulator, start_keyvault_emulator
from tui.demo.seed.site import (
    DEFAULT_CA_DURATION,
    DEFAULT_KEYVAULT,
    DEFAULT_RENEW_BEFORE,
    SeedOptions,
    Site,
    build_site,
)

log = logging.getLogger(__name__)

KUBECONFIG_FILE = "kubeconfig"
VAULT_CA_FILE = "vault-ca.pem"
ENV_FILE = "env"
KUBE_CONTEXT = "aio-demo"
LOOPBACK = "127.0.0.1"
_JOIN_TIMEOUT = 10.0
CONNECTION_POOL_SIZE = 32
IN_CLUSTER_AGENT = "aio-certs-demo-cluster/1.0"
"""User agent of the demo's controllers and Arc projection: they run beside the API server, so an
``api_latency`` (which stands for a far operator) does not apply to them."""

_C = TypeVar("_C", bound=Controller)

NOT_INSTALLED = frozenset({rk.CLUSTER_BUNDLES.key})
"""Kinds the demo cluster has no CRD for. Its trust-manager predates ClusterBundle: it serves the Bundle of
``trust.cert-manager.io/v1alpha1`` alone, as the public replica of the AIO chart shows (docs/domain.md
§2.2); a site in trust-manager's migration, with both kinds, is not one the demo pretends to be."""


@dataclass(frozen=True)
class StartupTimes:
    """Seconds spent in each start-up phase (for the benchmark and the serve banner)."""

    seed: float
    servers: float
    load: float
    settle: float
    total: float
    project: float = 0.0
    """Of ``settle``: creating the lists through ARM and projecting them onto the cluster."""


class DemoEnvironment:
    """A running (or startable) demo site. Not restartable: make a new one."""

    def __init__(
        self,
        *,
        state_dir: Path | None = None,
        clock: Clock | None = None,
        ca_duration: timedelta = DEFAULT_CA_DURATION,
        renew_before: timedelta = DEFAULT_RENEW_BEFORE,
        scale: int = 0,
        byo_issuer: bool = False,
        seed: int = 1,
        namespace: str = DEFAULT_NAMESPACE,
        keyvault_name: str = DEFAULT_KEYVAULT,
        run_controllers: bool = True,
        cluster_only_lists: bool = False,
        allow_oversized_secrets: bool = False,
        api_latency: timedelta = timedelta(0),
    ) -> None:
        """``run_controllers=False`` leaves the controllers' loops off: tests then drive
        ``reconcile_once()`` themselves. The Arc projection runs either way: it is Azure's side, and an
        ARM write's long-running operation ends only once it is applied.

        ``allow_oversized_secrets`` lifts the API server's 1 MiB limit on a Secret's data, which no real
        cluster allows: for benchmarks at ``scale`` 2000, whose trust list is about 2 MB.
        ``api_latency`` is added to every answer of the API server to anyone but the demo's own
        controllers, as for an operator far from the cluster.
        ``cluster_only_lists`` seeds the SPC and SecretSyncs on the cluster alone, nothing in ARM (the
        ARM emulator still runs, empty).
        """
        self.clock: Clock = clock or SystemClock()
        self.options = SeedOptions(
            start=self.clock.now(),
            seed=seed,
            namespace=namespace,
            ca_duration=ca_duration,
            renew_before=renew_before,
            scale=scale,
            byo_issuer=byo_issuer,
            keyvault_name=keyvault_name,
            cluster_only_lists=cluster_only_lists,
        )
        self._requested_dir = state_dir
        self._temp_dir: Path | None = None
        self._run_controllers = run_controllers
        self._allow_oversized_secrets = allow_oversized_secrets
        if api_latency < timedelta(0):
            raise ValueError("api_latency must not be negative")
        self._api_latency = api_latency
        self._stop_event = threading.Event()
        self._threads: list[threading.Thread] = []
        self._api: ApiServer | None = None
        self._vault: KeyVaultEmulator | None = None
        self._arm: ArmEmulator | None = None
        self._projection: ArcProjection | None = None
        self._kube: KubeAccess | None = None
        self.site: Site | None = None
        self.controllers: list[Controller] = []
        self.times: StartupTimes | None = None
        self._started = False
        self._secret_client: SecretClient | None = None

    # -- accessors ---------------------------------------------------------------------------

    @property
    def state_dir(self) -> Path:
        """Where kubeconfig, vault-ca.pem and env are written."""
        directory = self._requested_dir or self._temp_dir
        if directory is None:
            raise RuntimeError("the demo environment is not started")
        return directory

    @property
    def api(self) -> ApiServer:
        """The emulated API server handle."""
        if self._api is None:
            raise RuntimeError("the demo environment is not started")
        return self._api

    @property
    def vault(self) -> KeyVaultEmulator:
        """The Key Vault emulator handle."""
        if self._vault is None:
            raise RuntimeError("the demo environment is not started")
        return self._vault

    @property
    def arm(self) -> ArmEmulator:
        """The ARM emulator handle (its ``site`` names the subscription, resource group, custom location)."""
        if self._arm is None:
            raise RuntimeError("the demo environment is not started")
        return self._arm

    @property
    def projection(self) -> ArcProjection:
        """The simulated Arc projection of ARM changes onto the cluster."""
        if self._projection is None:
            raise RuntimeError("the demo environment is not started")
        return self._projection

    @property
    def kube(self) -> KubeAccess:
        """The controllers' Kubernetes access (a real ``kubernetes`` client over HTTP)."""
        if self._kube is None:
            raise RuntimeError("the demo environment is not started")
        return self._kube

    @property
    def kubeconfig_path(self) -> Path:
        """``DIR/kubeconfig``."""
        return self.state_dir / KUBECONFIG_FILE

    @property
    def vault_ca_path(self) -> Path:
        """``DIR/vault-ca.pem``: the CA that signed the vault emulator's certificate."""
        return self.state_dir / VAULT_CA_FILE

    @property
    def arm_ca_path(self) -> Path:
        """``DIR/arm-ca.pem``: the CA that signed the ARM emulator's certificate."""
        return self.state_dir / ARM_CA_FILE

    @property
    def env_path(self) -> Path:
        """``DIR/env``: shell export lines."""
        return self.state_dir / ENV_FILE

    @property
    def vault_url(self) -> str:
        """The vault URL every SPC's keyvaultName maps to in the demo."""
        return self.vault.url

    def env_vars(self) -> dict[str, str]:
        """What ``DIR/env`` exports."""
        return {
            "KUBECONFIG": str(self.kubeconfig_path),
            "AIO_CERTS_VAULT_URL": self.vault_url,
            "AIO_CERTS_VAULT_CA": str(self.vault_ca_path),
            "AIO_CERTS_AUTH": "demo",
            "AIO_CERTS_NAMESPACE": self.options.namespace,
            "AIO_CERTS_ARM_ENDPOINT": self.arm.endpoint,
            "AIO_CERTS_ARM_CA": str(self.arm_ca_path),
            "AZURE_SUBSCRIPTION_ID": self.arm.site.subscription,
            "AZURE_RESOURCE_GROUP": self.arm.site.resource_group,
        }

    @property
    def cert_manager(self) -> CertManagerController:
        """The simulated cert-manager."""
        return self._controller(CertManagerController)

    @property
    def trust_manager(self) -> TrustManagerController:
        """The simulated trust-manager."""
        return self._controller(TrustManagerController)

    @property
    def secret_sync(self) -> SecretSyncController:
        """The simulated secret sync controller."""
        return self._controller(SecretSyncController)

    def _controller(self, cls: type[_C]) -> _C:
        for controller in self.controllers:
            if isinstance(controller, cls):
                return controller
        raise RuntimeError("the demo environment is not started")

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> Self:
        """Start everything; returns once the controllers have settled on the seeded site."""
        if self._started:
            raise RuntimeError("a DemoEnvironment starts once; create a new one")
        self._started = True
        began = time.perf_counter()
        try:
            site = build_site(self.options)
            seeded = time.perf_counter()
            self._start_servers()
            servers = time.perf_counter()
            self._load(site)
            loaded = time.perf_counter()
            self._make_controllers()
            projected = self._project(site)
            self.settle()
            self._write_env_file()
            settled = time.perf_counter()
        except BaseException:
            self.stop()
            raise
        self.site = site
        self.times = StartupTimes(
            seed=seeded - began,
            servers=servers - seeded,
            load=loaded - servers,
            settle=settled - loaded,
            total=settled - began,
            project=projected,
        )
        self.projection.start()
        if self._run_controllers:
            for controller in self.controllers:
                thread = threading.Thread(
                    target=controller.run,
                    args=(self._stop_event,),
                    name=f"demo-{controller.name}",
                    daemon=True,
                )
                thread.start()
                self._threads.append(thread)
        return self

    def _start_servers(self) -> None:
        if self._requested_dir is not None:
            self._requested_dir.mkdir(parents=True, exist_ok=True)
        else:
            self._temp_dir = Path(tempfile.mkdtemp(prefix="aio-certs-demo-"))
        self._api = start_api_server(
            host=LOOPBACK,
            clock=self.clock,
            max_secret_bytes=None if self._allow_oversized_secrets else MAX_SECRET_BYTES,
            latency=self._api_latency.total_seconds(),
            latency_exempt=(IN_CLUSTER_AGENT,),
            not_installed=NOT_INSTALLED,
        )
        # The vault keeps no state file: each start is a fresh site, in step with the in-memory cluster.
        self._vault = start_keyvault_emulator(host=LOOPBACK, clock=self.clock)
        if self._vault.ca_pem_path is None:
            raise RuntimeError("the Key Vault emulator wrote no CA file")
        shutil.copyfile(self._vault.ca_pem_path, self.vault_ca_path)
        self._arm = start_arm_emulator(
            ca_dir=self.state_dir, site=self.options.arm, host=LOOPBACK, clock=self.clock
        )
        self.api.write_kubeconfig(
            self.kubeconfig_path, context=KUBE_CONTEXT, namespace=self.options.namespace
        )

    def _write_env_file(self) -> None:
        # Written last and atomically: a script that waits for DIR/env to appear then finds a site
        # whose controllers have settled, never a half-seeded one.
        lines = ["# aio-certs demo: `source` this file to point kubectl and aio-certs at the demo site."]
        lines += [f"export {key}={shlex.quote(value)}" for key, value in self.env_vars().items()]
        partial = self.env_path.with_suffix(".partial")
        partial.write_text("\n".join(lines) + "\n", encoding="utf-8")
        partial.replace(self.env_path)

    def _load(self, site: Site) -> None:
        self.api.put_many(site.cluster_objects())
        for secret in site.vault:
            self.vault.put_secret(
                secret.name, secret.value, content_type=secret.content_type, tags=secret.tags
            )

    def _make_controllers(self) -> None:
        # Imported here: the kubernetes client and azure SDK are heavy and only needed once running.
        from kubernetes import config as k8s_config

        from tui.vault.client import make_secret_client

        api_client = k8s_config.new_client_from_config(
            config_file=str(self.kubeconfig_path), context=KUBE_CONTEXT
        )
        api_client.user_agent = IN_CLUSTER_AGENT
        self._kube = KubeAccess(api_client)
        secret_client = make_secret_client(self.vault_url, auth="demo", ca_bundle=str(self.vault_ca_path))
        self._secret_client = secret_client
        self.controllers = [
            CertManagerController(self._kube, self.clock),
            TrustManagerController(self._kube, self.clock),
            SecretSyncController(self._kube, self.clock, lambda _view: secret_client),
        ]

    def _project(self, site: Site) -> float:
        """Create the site's lists through ARM and apply them to the cluster before anything else runs:
        the demo starts with its lists in place, and always the same way. Returns the seconds it took."""
        began = time.perf_counter()
        self._projection = ArcProjection(self.kube, self.arm, self.options.namespace)
        self._projection.attach()
        for resource in site.arm_resources:
            self.arm.put_resource(resource.kind, resource.name, resource.properties, tags=resource.tags)
        self._projection.drain()
        return time.perf_counter() - began

    def settle(self, max_rounds: int = 5) -> int:
        """Run every controller until a whole round makes no write; returns the rounds used.

        One controller's writes feed the next (a new CA -> trust bundle), hence rounds.
        """
        for round_number in range(1, max_rounds + 1):
            writes = sum(c.reconcile_once().writes for c in self.controllers)
            if writes == 0:
                return round_number
        return max_rounds

    def reconcile_all(self) -> int:
        """One pass of every controller, in order; returns the writes made."""
        return sum(c.reconcile_once().writes for c in self.controllers)

    def stop(self) -> None:
        """Stop the controllers, then both servers; remove a temporary state directory. Idempotent."""
        self._stop_event.set()
        for controller in self.controllers:
            controller.wake()
        deadline = time.monotonic() + _JOIN_TIMEOUT
        for thread in self._threads:
            while thread.is_alive() and time.monotonic() < deadline:
                # A controller's watch blocks in a read until an event comes, and one being opened right
                # now would miss a single drop: end the open streams until the controller has gone, so its
                # watch threads see the stop flag at once rather than at their join timeout.
                if self._api is not None:
                    with contextlib.suppress(Exception):
                        self._api.drop_watches()
                thread.join(timeout=0.05)
            if thread.is_alive():
                log.warning("demo controller thread %s did not stop", thread.name)
        self._threads.clear()
        if self._projection is not None:
            self._projection.stop()
        for controller in self.controllers:
            if isinstance(controller, SecretSyncController):
                controller.close()
        if self._secret_client is not None:
            self._secret_client.close()
            self._secret_client = None
        if self._kube is not None:
            self._kube.api_client.close()
        if self._vault is not None:
            self._vault.stop()
            self._vault = None
        if self._arm is not None:
            self._arm.stop()
            self._arm = None
        if self._api is not None:
            self._api.stop()
            self._api = None
        # A watch re-opened just before the stop flag was seen ends with the server: wait for it, so
        # stop() returns with no thread of the site left.
        for controller in self.controllers:
            for watcher in controller.watchers:
                watcher.join(timeout=_JOIN_TIMEOUT)
        if self._temp_dir is not None:
            shutil.rmtree(self._temp_dir, ignore_errors=True)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def describe(self) -> Iterator[str]:
        """Human lines saying where things are (for the serve banner)."""
        yield f"Kubernetes API   {self.api.url}  (kubeconfig: {self.kubeconfig_path})"
        if self._allow_oversized_secrets:
            yield "                 Secrets over 1 MiB allowed (no real cluster allows them)"
        if self._api_latency:
            yield f"                 {self._api_latency.total_seconds() * 1000:.0f} ms added to every answer"
        yield f"Key Vault        {self.vault_url}  (CA: {self.vault_ca_path})"
        arm = self.arm.site
        owner = "cluster-only" if self.options.cluster_only_lists else "ARM-owned"
        yield f"Azure RM         {self.arm.endpoint}  (CA: {self.arm_ca_path})"
        yield f"                 subscription {arm.subscription}, resource group {arm.resource_group}"
        yield f"                 custom location {arm.custom_location}; OPC UA lists {owner}"
        yield f"Environment      {self.env_path}"
