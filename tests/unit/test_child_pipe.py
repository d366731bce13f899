"""``forking.ChildPipe``: a forked child's messages, read as they are written (design §10.1).

The child runs in a fresh Python process, as in the commands: a fork is made only from a process running
no other thread, and pytest's workers run some.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_SCRIPT = """
import gc, json, threading
from tui.commands.shared.forking import ChildPipe, send_message

def child(send):
    send_message(send, "small", {"n": 1})
    send_message(send, "large", [str(i) * 10 for i in range(200_000)])  # many pipe buffers' worth
    send_message(send, "unpicklable", threading.Lock())  # a bug: the child ends, part of it written
    send_message(send, "never", 2)

pipe = ChildPipe(child, "test-child")
got = []
while (message := pipe.receive()) is not None:
    kind, value = message
    got.append([kind, len(value) if kind == "large" else value])
pipe.join(10)
print(json.dumps({"got": got, "exitcode": pipe.exitcode, "gc": gc.isenabled()}))
pipe.close()
pipe.close()
"""


def test_messages_arrive_whole_and_a_bad_one_ends_the_child_not_the_reader() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["got"] == [["small", {"n": 1}], ["large", 200_000]]  # then the end, never a hang
    assert out["exitcode"] == 0
    assert out["gc"] is True  # the collector is on again after each load
    assert done.stderr == ""  # nothing printed by either side
