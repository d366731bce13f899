"""``aio-certs demo`` arguments and help (standard library only; run by :mod:`.run`)."""

from __future__ import annotations

import argparse

EPILOG = """\
examples:
  aio-certs demo --serve --state-dir /tmp/aio-demo
  source /tmp/aio-demo/env && kubectl get secretsyncs -n azure-iot-operations
  aio-certs demo --serve --state-dir /tmp/aio-demo --ca-duration 60s --renew-before 45s  # rotate in ~10 s
  aio-certs demo --serve --state-dir /tmp/aio-demo --scale 2000 --allow-oversized-secrets  # benchmarks
  aio-certs demo --serve --state-dir /tmp/aio-demo --cluster-only-lists                    # no ARM
  aio-certs demo --api-latency 200                                  # as if the API server were far away

exit status:
  0  stopped cleanly after an interrupt
  1  the environment could not start
  2  bad usage
"""

EXIT_FAILED = 1
EXIT_USAGE = 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register ``demo`` options."""
    parser.add_argument("--serve", action="store_true", help="serve the site until interrupted")
    parser.add_argument(
        "--state-dir",
        metavar="DIR",
        help="where to write kubeconfig, vault-ca.pem and env (default: a temporary "
        "directory removed on exit)",
    )
    parser.add_argument(
        "--ca-duration",
        metavar="D",
        default="8760h",
        help="lifetime of the quickstart root CA, e.g. 60s, 1h, 2160h (default: 8760h, one year, as the "
        "public docs show it)",
    )
    parser.add_argument(
        "--renew-before",
        metavar="D",
        default="720h",
        help="renew the root CA this long before it expires (default: 720h)",
    )
    parser.add_argument(
        "--scale",
        metavar="N",
        default="0",
        help="add N extra trust-list entries, for benchmarks (default: 0); past about 1,400 the trust "
        "list exceeds the 1 MiB a Secret may hold and its sync fails, as on a real cluster, unless "
        "--allow-oversized-secrets",
    )
    parser.add_argument(
        "--allow-oversized-secrets",
        action="store_true",
        help="let the emulated API server store Secrets over 1 MiB of data, which exceeds what a real "
        "cluster allows (for benchmarks at --scale 2000 only)",
    )
    parser.add_argument(
        "--api-latency",
        metavar="MS",
        default="0",
        help="add MS milliseconds to every answer of the emulated API server (discovery, lists, reads, "
        "writes, the first event of a watch), as for a far API server; the demo's own controllers "
        "are not slowed (default: 0)",
    )
    parser.add_argument(
        "--byo-issuer",
        action="store_true",
        help="seed a bring-your-own-issuer site instead of the quickstart CA",
    )
    parser.add_argument(
        "--cluster-only-lists",
        action="store_true",
        help="seed the OPC UA lists on the cluster alone, as kubectl would create them (default: created "
        "through the emulated Azure Resource Manager and projected onto the cluster, as the official "
        "tooling does)",
    )
    parser.add_argument(
        "--seed",
        metavar="N",
        default="1",
        help="seed of the generated site; the same seed gives the same certificates",
    )
    parser.add_argument(
        "-n",
        "--namespace",
        metavar="NS",
        default="azure-iot-operations",
        help="AIO namespace of the site (default: azure-iot-operations)",
    )
    parser.add_argument(
        "--no-mouse",
        action="store_true",
        help="dashboard only: do not capture the mouse (lets the terminal select text)",
    )
    parser.add_argument(
        "--read-only", action="store_true", help="dashboard only: hide and refuse every change action"
    )
