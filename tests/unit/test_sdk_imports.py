"""The Azure SDK is imported one thread at a time (tui/vault/sdk_imports.py).

Found by the suite: ``status`` listed the vault on a thread while its main thread looked up the vault
URL, both importing azure.core, and once in a full run CPython gave up with ``_DeadlockError: deadlock
detected by _ModuleLock('azure.core.exceptions')``. The race itself cannot be provoked on demand, so these
tests check the mechanism: every lazy SDK import on a reader's path waits at the one gate first.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

# In a fresh interpreter (the SDK not yet imported): hold the gate, call a reader's lazy path on another
# thread, and see that it waits at the gate before any azure module is imported.
_PROBE = textwrap.dedent(
    """
    import sys, threading
    import tui.vault.sdk_imports as gate
    from tui.commands.shared.settings import ArmSettings, VaultSettings
    from tui.commands.shared.{module} import {function}

    attempted = threading.Event()
    real = gate._LOCK

    class Watched:
        def __enter__(self):
            attempted.set()
            return real.__enter__()

        def __exit__(self, *exc):
            return real.__exit__(*exc)

    def work():
        try:
            {call}
        except Exception:
            pass  # a refusal (no sign-in, bad ids) comes after the imports this test is about

    gate._LOCK = Watched()
    assert "azure.core" not in sys.modules
    with real:
        worker = threading.Thread(target=work)
        worker.start()
        assert attempted.wait(30), "the reader imported without passing the gate"
        assert "azure.core" not in sys.modules, "the SDK was imported before the gate"
    worker.join(30)
    assert "azure.core" in sys.modules
    print("ok")
    """
)


def _run(module: str, function: str, call: str) -> subprocess.CompletedProcess[str]:
    code = _PROBE.format(module=module, function=function, call=call)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


def test_the_vault_url_look_up_waits_at_the_gate_before_importing_the_sdk() -> None:
    done = _run(
        "vault_reader", "vault_target", 'vault_target(VaultSettings(url="https://kv.example/"), None)'
    )
    assert done.stdout.strip() == "ok", done.stderr


def test_opening_arm_waits_at_the_gate_before_importing_the_sdk() -> None:
    done = _run("arm_reader", "open_arm", "open_arm(ArmSettings(), None, auth='demo', cloud=None)")
    assert done.stdout.strip() == "ok", done.stderr


def test_modules_already_imported_are_not_waited_for() -> None:
    """status's vault listing runs while its main thread holds the gate to import the cluster client."""
    code = textwrap.dedent(
        """
        import threading
        import tui.vault.sdk_imports as gate
        gate.import_sdk(("json", "tui.core.text"))
        done = threading.Event()
        with gate._LOCK:  # held, as by a thread importing something else
            worker = threading.Thread(target=lambda: (gate.import_sdk(("json", "tui.core.text")), done.set()))
            worker.start()
            assert done.wait(30), "an import of loaded modules waited at the gate"
            late = threading.Thread(target=lambda: gate.import_sdk(("tui.core.durations",)))
            late.start()
            late.join(0.5)
            assert late.is_alive(), "a module not yet imported must wait at the gate"
        late.join(30)
        print("ok")
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "ok", done.stderr
