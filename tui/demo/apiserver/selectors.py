"""Label and field selectors with the grammar and semantics of the real API server.

Label selectors: ``k=v``, ``k==v``, ``k!=v``, ``k in (a,b)``, ``k notin (a,b)``, ``k``, ``!k``,
``k>1``/``k<1``. ``!=`` and ``notin`` also match objects without the label, as upstream.
Field selectors: ``path=v``, ``path==v``, ``path!=v`` over the fields each kind supports; others get
400 "field label not supported", as from a real server.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from tui.demo.apiserver.errors import bad_request

_KEY = r"(?:[A-Za-z0-9](?:[-A-Za-z0-9_./]*[A-Za-z0-9])?)"
_VALUE = r"(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?)?"
_SET_RE = re.compile(rf"^\s*({_KEY})\s+(in|notin)\s+\(([^()]*)\)\s*$")
_OP_RE = re.compile(rf"^\s*({_KEY})\s*(==|!=|=|>|<)\s*({_VALUE})\s*$")
_EXISTS_RE = re.compile(rf"^\s*(!?)\s*({_KEY})\s*$")
_VALUE_RE = re.compile(rf"^{_VALUE}$")

Matcher = Callable[[Mapping[str, Any]], bool]


@dataclass(frozen=True)
class Requirement:
    """One clause of a label selector."""

    key: str
    op: str  # "=", "!=", "in", "notin", "exists", "!exists", ">", "<"
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Whether ``labels`` satisfy this clause."""
        present = self.key in labels
        value = labels.get(self.key)
        match self.op:
            case "exists":
                return present
            case "!exists":
                return not present
            case "=" | "in":
                return present and value in self.values
            case "!=" | "notin":
                return not present or value not in self.values
            case ">" | "<":
                try:
                    have, want = int(value or ""), int(self.values[0])
                except ValueError:
                    return False
                return have > want if self.op == ">" else have < want
        return False  # pragma: no cover - the parser only builds the ops above


def _split_top_level(text: str) -> list[str]:
    """Split on commas that are not inside ``( )`` of an in/notin set."""
    parts: list[str] = []
    depth, start = 0, 0
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                raise bad_request(f"unable to parse requirement: unbalanced ')' in {text!r}")
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    if depth:
        raise bad_request(f"unable to parse requirement: unbalanced '(' in {text!r}")
    parts.append(text[start:])
    return parts


def parse_label_selector(text: str | None) -> tuple[Requirement, ...]:
    """Parse a ``labelSelector``; raises a 400 ``KubernetesError`` on bad syntax."""
    if text is None or not text.strip():
        return ()
    requirements: list[Requirement] = []
    for clause in _split_top_level(text):
        if not clause.strip():
            raise bad_request(f"unable to parse requirement: found empty clause in {text!r}")
        if m := _SET_RE.match(clause):
            values = tuple(v.strip() for v in m.group(3).split(",")) if m.group(3).strip() else ()
            if not values or any(not _VALUE_RE.match(v) for v in values):
                raise bad_request(f"unable to parse requirement: invalid value set in {clause.strip()!r}")
            requirements.append(Requirement(m.group(1), m.group(2), values))
        elif m := _OP_RE.match(clause):
            op = "=" if m.group(2) == "==" else m.group(2)
            if op in (">", "<") and not re.fullmatch(r"-?\d+", m.group(3)):
                raise bad_request(
                    f"unable to parse requirement: {clause.strip()!r}: for 'gt', 'lt' "
                    f"operators, the value must be an integer"
                )
            requirements.append(Requirement(m.group(1), op, (m.group(3),)))
        elif m := _EXISTS_RE.match(clause):
            requirements.append(Requirement(m.group(2), "!exists" if m.group(1) else "exists"))
        else:
            raise bad_request(f"unable to parse requirement: {clause.strip()!r}")
    return tuple(requirements)


def _split_unescaped(text: str, sep: str) -> list[str]:
    """Split on ``sep`` unless backslash-escaped (field selector values may contain ``\\,``)."""
    parts, current, escaped = [], [], False
    for ch in text:
        if escaped:
            current.append(ch)
            escaped = False
        elif ch == "\\":
            current.append(ch)
            escaped = True
        elif ch == sep:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts


def _unescape(value: str) -> str:
    return re.sub(r"\\(.)", r"\1", value)


# Field paths each kind supports besides metadata.name and metadata.namespace (as upstream).
_EXTRA_FIELDS: dict[str, frozenset[str]] = {
    "v1/secrets": frozenset({"type"}),
    "v1/namespaces": frozenset({"status.phase"}),
    "v1/events": frozenset(
        {
            "involvedObject.kind",
            "involvedObject.namespace",
            "involvedObject.name",
            "involvedObject.uid",
            "involvedObject.apiVersion",
            "involvedObject.resourceVersion",
            "involvedObject.fieldPath",
            "reason",
            "reportingComponent",
            "source",
            "type",
        }
    ),
}


def _field_value(obj: Mapping[str, Any], path: str) -> str:
    node: Any = obj
    for part in path.split("."):
        if not isinstance(node, Mapping):
            return ""
        node = node.get(part)
    if node is None:
        return ""
    if isinstance(node, Mapping):
        # "source" on Events is matched on its component, as upstream does.
        return str(node.get("component", ""))
    return str(node)


def parse_field_selector(text: str | None, resource_key: str) -> tuple[tuple[str, str, str], ...]:
    """Parse a ``fieldSelector`` into ``(path, op, value)``; 400 for unsupported fields or bad syntax."""
    if text is None or not text.strip():
        return ()
    allowed = {"metadata.name", "metadata.namespace"} | _EXTRA_FIELDS.get(resource_key, frozenset())
    terms: list[tuple[str, str, str]] = []
    for clause in _split_unescaped(text, ","):
        m = re.fullmatch(r"\s*([A-Za-z0-9_.]+)\s*(==|!=|=)(.*)", clause)
        if not m:
            raise bad_request(f"invalid selector: '{text}'; can't understand '{clause}'")
        path, op, value = m.group(1), m.group(2), _unescape(m.group(3))
        if path not in allowed:
            raise bad_request(f"field label not supported: {path}")
        terms.append((path, "!=" if op == "!=" else "=", value))
    return tuple(terms)


@dataclass(frozen=True)
class Selector:
    """A parsed label selector and field selector, applied together."""

    labels: tuple[Requirement, ...] = ()
    fields: tuple[tuple[str, str, str], ...] = ()

    @classmethod
    def parse(cls, label_selector: str | None, field_selector: str | None, resource_key: str) -> Selector:
        """Parse both query parameters; raises a 400 ``KubernetesError`` on bad input."""
        return cls(parse_label_selector(label_selector), parse_field_selector(field_selector, resource_key))

    @property
    def empty(self) -> bool:
        """True when the selector matches everything."""
        return not self.labels and not self.fields

    def matches(self, obj: Mapping[str, Any]) -> bool:
        """Whether ``obj`` passes every label and field clause."""
        if self.labels:
            labels = (obj.get("metadata") or {}).get("labels") or {}
            if not all(req.matches(labels) for req in self.labels):
                return False
        for path, op, value in self.fields:
            have = _field_value(obj, path)
            if (have == value) != (op == "="):
                return False
        return True
