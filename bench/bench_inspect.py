"""Benchmark of the certificate core and ``aio-certs inspect``.

Prints:
- certificates parsed per second in this process (target >= 10,000/s), cold (parse cache cleared before
  every round) for a realistic mixed bundle, per form (PEM, concatenated DER, Key Vault hex) and for the
  worst case (every certificate self-signed, so every one needs a signature check); plus the warm figure
  for re-reading the same bundle, which is what a dashboard does on every change;
- whole-process wall time of ``aio-certs inspect`` on one file (target under 0.4 s, interpreter start
  included) and on a 1,000-certificate bundle, median of several runs.

    .venv/bin/python bench/bench_inspect.py [--runs 7] [--rounds 5]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests import certgen as g  # noqa: E402  (needs the path set above)
from tui.core.certs import decode, decode_bytes  # noqa: E402


def mixed_bundle(count: int = 1000) -> bytes:
    """A trust-list-like bundle: 2 RSA roots, 8 issuing CAs, the rest leaves with OPC UA style SANs."""
    roots = [g.make_ca(f"Bench Root {i}", key="rsa") for i in range(2)]
    issuers = [g.make_intermediate(roots[i % 2], f"Bench Issuing CA {i}", key="ec") for i in range(8)]
    leaves = [
        g.make_leaf(
            issuers[i % 8],
            f"device-{i:04d}",
            key="ec",
            uris=(f"urn:contoso:device-{i:04d}",),
            dns=(f"device-{i:04d}.plant.local",),
            ips=(f"10.{i // 256 % 256}.{i % 256}.1",),
        )
        for i in range(count - 10)
    ]
    return g.bundle(*leaves, *issuers, *roots)


def self_signed_bundle(count: int, key: g.KeySpec) -> bytes:
    """The worst case: OPC UA application certificates, each self-signed."""
    shared = g.make_key(key, "bench-self-signed")  # one key: generation time is not what we measure
    apps = (g.make_leaf(None, f"app-{i:04d}", key=shared, uris=(f"urn:app:{i}",)) for i in range(count))
    return g.bundle(*apps)


def rate(data: bytes, rounds: int, *, cold: bool = True) -> tuple[float, int]:
    """Certificates per second decoding ``data`` (best of ``rounds``) and the count per decode."""
    best = float("inf")
    count = len(decode_bytes(data).certificates)
    for _ in range(rounds):
        if cold:
            decode._certificate.cache_clear()
        start = time.perf_counter()
        decode_bytes(data)
        best = min(best, time.perf_counter() - start)
    return count / best, count


def wall(command: list[str], runs: int) -> tuple[float, float]:
    """Median and max wall time of a whole process, after one untimed warm-up run (disk cache)."""
    subprocess.run(command, capture_output=True, check=True)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times), max(times)


def main() -> None:
    """Run the benchmark and print one figure per line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="process runs per wall-time figure")
    parser.add_argument(
        "--rounds", type=int, default=5, help="in-process rounds per parse figure (the best is kept)"
    )
    args = parser.parse_args()

    bundle = mixed_bundle()
    der = b"".join(decode_bytes(bundle).certificates[i].der for i in range(1000))
    report: list[tuple[str, Callable[[], tuple[float, int]]]] = [
        ("mixed bundle, PEM", lambda: rate(bundle, args.rounds)),
        ("mixed bundle, concatenated DER", lambda: rate(der, args.rounds)),
        ("mixed bundle, Key Vault hex", lambda: rate(g.kv_hex(bundle), args.rounds)),
        ("all self-signed RSA 2048 (worst case)", lambda: rate(self_signed_bundle(300, "rsa"), args.rounds)),
        ("all self-signed EC P-256 (worst case)", lambda: rate(self_signed_bundle(300, "ec"), args.rounds)),
        ("mixed bundle, PEM, re-read (parse cache warm)", lambda: rate(bundle, args.rounds, cold=False)),
    ]
    print("certificates parsed per second, in process (target >= 10,000/s):")
    for label, measure in report:
        per_second, count = measure()
        print(f"  {label:48s} {per_second:>9,.0f}/s  ({count} certificates)")

    executable = shutil.which("aio-certs", path=str(Path(sys.executable).parent))
    command = [executable] if executable else [sys.executable, "-m", "tui"]
    with tempfile.TemporaryDirectory(prefix="bench-inspect-") as tmp:
        one = Path(tmp) / "one.pem"
        one.write_bytes((ROOT / "tests" / "data" / "sample-chain.pem").read_bytes())
        many = Path(tmp) / "bundle-1000.pem"
        many.write_bytes(bundle)
        shown = " ".join([Path(command[0]).name, *command[1:]])
        print(f"whole-process wall time of `{shown} inspect` (median / max of {args.runs}):")
        for label, path, target in (
            ("one file (3 certificates)", one, " (target < 0.4 s)"),
            ("1,000-certificate bundle", many, ""),
        ):
            median, worst = wall([*command, "inspect", str(path)], args.runs)
            print(f"  {label:34s} {median:.3f} s / {worst:.3f} s{target}")
            median, worst = wall([*command, "inspect", "--json", str(path)], args.runs)
            print(f"  {label + ', --json':34s} {median:.3f} s / {worst:.3f} s")


if __name__ == "__main__":
    main()
