"""Step deltas: re-applied over someone else's edit, recognised when already done, undone exactly."""

from __future__ import annotations

from tui.core.changes.operations import SpcEdit, SyncEdit
from tui.core.model.spc import SpcObject, cli_object, parse_objects, serialize_objects
from tui.ops import deltas


def _objects(*names: str) -> str | None:
    return serialize_objects([cli_object(n) for n in names])


def _names(text: str | None) -> list[str]:
    return [o.object_name for o in parse_objects(text)]


def _spc(
    before: tuple[str, ...],
    after: tuple[str, ...],
    added: tuple[str, ...] = (),
    removed: tuple[str, ...] = (),
) -> SpcEdit:
    return SpcEdit("ns", "spc", "1", _objects(*before), _objects(*after), added, removed)


def test_spc_forward_keeps_a_concurrent_addition() -> None:
    op = _spc(("a", "b"), ("a", "b", "new"), added=("new",))
    theirs = _objects("a", "b", "theirs")
    assert _names(deltas.spc_forward(theirs, op)) == ["a", "b", "theirs", "new"]
    assert not deltas.spc_done(theirs, op)
    assert deltas.spc_done(deltas.spc_forward(theirs, op), op)


def test_spc_removal_and_backward_restore() -> None:
    op = _spc(("a", "b", "c"), ("a", "c"), removed=("b",))
    now = deltas.spc_forward(_objects("a", "b", "c", "x"), op)
    assert _names(now) == ["a", "c", "x"] and deltas.spc_done(now, op)
    assert _names(deltas.spc_backward(now, op)) == ["a", "c", "x", "b"]
    assert deltas.spc_forward(_objects("b"), op) is None  # nothing left: drop the property


def test_spc_backward_of_an_in_place_replacement_restores_the_old_object() -> None:
    old = SpcObject("a", "secret", "utf-8")
    new = SpcObject("a", "secret", "hex")
    op = SpcEdit("ns", "spc", "1", serialize_objects([old]), serialize_objects([new]), ("a",), ())
    applied = deltas.spc_forward(serialize_objects([old]), op)
    assert parse_objects(applied) == (new,)
    assert parse_objects(deltas.spc_backward(applied, op)) == (old,)
    assert deltas.same_objects(deltas.spc_backward(serialize_objects([old]), op), serialize_objects([old]))


def _sync(
    before: tuple[tuple[str, str], ...],
    after: tuple[tuple[str, str], ...],
    action: str = "update",
) -> SyncEdit:
    return SyncEdit("ns", "list", "trust", "1", before, after, action, "spc")


def test_mappings_forward_done_and_backward() -> None:
    op = _sync((("a", "a.der"), ("b", "b.der")), (("a", "a.der"), ("n", "n.der")))
    theirs = (("a", "a.der"), ("b", "b.der"), ("t", "t.der"))
    forward = deltas.mappings_forward(theirs, op)
    assert forward == (("a", "a.der"), ("t", "t.der"), ("n", "n.der"))
    assert deltas.mappings_done(forward, op) and not deltas.mappings_done(theirs, op)
    assert deltas.mappings_backward(forward, op) == (("a", "a.der"), ("t", "t.der"), ("b", "b.der"))


def test_a_replaced_source_is_put_back() -> None:
    op = _sync((("old", "x.der"),), (("new", "x.der"),))
    assert deltas.mappings_forward((("old", "x.der"),), op) == (("new", "x.der"),)
    assert deltas.mappings_backward((("new", "x.der"),), op) == (("old", "x.der"),)


def test_create_and_delete_steps() -> None:
    create = _sync((), (("n", "n.der"),), "create")
    assert deltas.mappings_done(None, create) is False
    assert deltas.mappings_forward(None, create) == (("n", "n.der"),)
    assert deltas.mappings_backward((("n", "n.der"),), create) == ()  # empty: delete the SecretSync
    delete = _sync((("l", "l.der"),), (), "delete")
    assert deltas.mappings_done(None, delete) and not deltas.mappings_done((("l", "l.der"),), delete)
    assert deltas.mappings_backward(None, delete) == (("l", "l.der"),)


def test_pairs_of_reads_secret_sync_objects() -> None:
    obj = {"spec": {"secretObject": {"data": [{"sourcePath": "a", "targetKey": "a.der"}, "junk"]}}}
    assert deltas.pairs_of(obj) == (("a", "a.der"),)
    assert deltas.pairs_of(None) is None
    assert deltas.pairs_of({"spec": None}) == ()


def test_backward_leaves_what_someone_else_put_under_our_names() -> None:
    op = _sync((("a", "a.der"),), (("a", "a.der"), ("ours", "n.der")))
    theirs = (("a", "a.der"), ("their-secret", "n.der"))  # our write never landed; theirs did
    assert deltas.mappings_backward(theirs, op) == theirs
    dropped = _sync((("a", "a.der"), ("b", "b.der")), (("a", "a.der"),))
    readded = (("a", "a.der"), ("b2", "b.der"))
    assert deltas.mappings_backward(readded, dropped) == readded
    spc_op = _spc(("a",), ("a", "n"), added=("n",))
    other = serialize_objects([cli_object("a"), SpcObject("n", "secret", "base64")])
    assert deltas.same_objects(deltas.spc_backward(other, spc_op), other)
