"""The per-item summary of a ``PartialSync`` condition: which items of a SecretSync failed, and why.

Azure's Secret Store extension syncs what it can and reports the rest with reason ``PartialSync``, its
message "a stringified json summary of the success or failure for each item" (docs/domain.md §5.3). No
public source shows that JSON's shape (UNCONFIRMED, §10), so this reader accepts the plausible ones and
says so when it recognises none: a list of item objects, a mapping of item name to a status word, a
boolean or an item object, either possibly under a key such as ``items``, and text around the JSON. An
item is named by whichever of the usual name fields it has and failed when its status says so or it
carries an error. What cannot be read returns None, and the caller then treats the whole list as failing,
as it would any other failure.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

# Field names an item may carry its name under, most specific first (the target key is the file name
# in the list; the source path and object name are the vault secret's name).
_NAME_KEYS = ("targetKey", "key", "sourcePath", "objectName", "secretName", "name", "item", "object", "file")
_BOOL_KEYS = ("success", "succeeded", "synced", "ok")
_STATUS_KEYS = ("status", "state", "result", "outcome")
_ERROR_KEYS = ("error", "errorMessage", "err", "failure", "failureReason")
_TEXT_KEYS = ("message", "reason", "detail", "details")
_FAILED_WORDS = ("fail", "error", "denied", "forbidden", "notfound", "not found", "invalid", "unauthorized")
_OK_WORDS = frozenset(
    {"success", "succeeded", "successful", "synced", "ok", "true", "updated", "created", "uptodate"}
)
# Containers a summary may keep its items under (anything else is read as ``name: status``).
_CONTAINER_KEYS = ("items", "secrets", "objects", "results", "summary", "data", "status", "details")

Item = tuple[str, bool | None, str]
"""An item's name, whether it synced (None: the summary does not say) and the reason given."""


def _lookup(item: Mapping[str, Any], keys: tuple[str, ...]) -> Any:
    lowered = {str(k).lower(): v for k, v in item.items()}
    for key in keys:
        value = lowered.get(key.lower())
        if value not in (None, ""):
            return value
    return None


def _word_ok(text: str) -> bool | None:
    word = " ".join(text.lower().split())
    if any(bad in word for bad in _FAILED_WORDS):
        return False
    if word.replace(" ", "") in _OK_WORDS:
        return True
    return None


def _judge(value: Any) -> tuple[bool | None, str]:
    """Whether a status value (bool, word, or object) says synced, and the reason it gives."""
    if isinstance(value, bool):
        return value, ""
    if isinstance(value, str):
        return _word_ok(value), value
    if isinstance(value, Mapping):
        error = _lookup(value, _ERROR_KEYS)
        text = _lookup(value, _TEXT_KEYS)
        flag = _lookup(value, _BOOL_KEYS)
        status = _lookup(value, _STATUS_KEYS)
        ok: bool | None = None
        if isinstance(flag, bool):
            ok = flag
        elif isinstance(status, str):
            ok = _word_ok(status)
        elif isinstance(status, bool):
            ok = status
        if error is not None and not isinstance(error, bool):
            ok = False
        reason = str(error if error is not None and not isinstance(error, bool) else text or status or "")
        return ok, " ".join(reason.split())
    return None, ""


def _items(node: Any, depth: int = 0) -> list[Item]:
    if depth > 4:  # a summary nests a level or two; deeper is not one
        return []
    if isinstance(node, list):
        out: list[Item] = []
        for element in node:
            if isinstance(element, Mapping):
                name = _lookup(element, _NAME_KEYS)
                if isinstance(name, str):
                    ok, reason = _judge(element)
                    out.append((name, ok, reason))
                else:
                    out += _items(element, depth + 1)
        return out
    if not isinstance(node, Mapping):
        return []
    name = _lookup(node, _NAME_KEYS)
    if isinstance(name, str):
        # An item object (inside a container, or a summary of a single item that says how it went).
        ok, reason = _judge(node)
        if depth > 0 or ok is not None:
            return [(name, ok, reason)]
    containers = [
        v for k, v in node.items() if str(k).lower() in _CONTAINER_KEYS and isinstance(v, list | dict)
    ]
    if containers:
        return [item for value in containers for item in _items(value, depth + 1)]
    out = []
    for key, value in node.items():
        if isinstance(value, bool | str | Mapping):
            ok, reason = _judge(value)
            own = _lookup(value, _NAME_KEYS) if isinstance(value, Mapping) else None
            out.append((own if isinstance(own, str) else str(key), ok, reason))
    return out


def _json_in(text: str) -> Any:
    """The JSON value in ``text``: the whole text, else the first object or array inside it."""
    try:
        return json.loads(text)
    except ValueError:
        pass
    decoder = json.JSONDecoder()
    for index, char in enumerate(text):
        if char in "{[":
            try:
                return decoder.raw_decode(text, index)[0]
            except ValueError:
                continue
    return None


def failed_items(message: str) -> tuple[tuple[str, str], ...] | None:
    """``(item, reason)`` for every item the summary says failed, in its order; None when no item can be
    read from it at all (then which items failed is unknown)."""
    items = _items(_json_in(message))
    if not any(ok is not None for _, ok, _ in items):
        return None
    seen: set[str] = set()
    out = []
    for name, ok, reason in items:
        if ok is False and name not in seen:
            seen.add(name)
            out.append((name, reason or "failed"))
    return tuple(out)
