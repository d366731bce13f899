"""The on-disk copy of decoded certificates (``tui/cluster/decoded_store.py``).

What it must guarantee: a saved decode comes back equal and spares the decoder; bytes that held a private
key leave nothing on disk; a copy made by another decoder, a damaged or foreign file, or one another user
could have written is ignored (decoded again), never executed or trusted.
"""

from __future__ import annotations

import hashlib
import os
import pickle
from pathlib import Path

import pytest

from tests.certgen import make_ca, make_crl, make_leaf
from tui.cluster import decoded_store
from tui.cluster.decoded_store import FILE_NAME, MAGIC, DecodedStore, decoder_fingerprint
from tui.core.build.cache import DecodeCache, decode_value


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    path = tmp_path / "state"
    path.mkdir(mode=0o700)
    return path


def _files() -> dict[str, bytes]:
    ca = make_ca("Store Root")
    leaf = make_leaf(ca, "store-leaf", uris=["urn:store:leaf"])
    return {
        "ca.der": ca.der,
        "leaf.pem": leaf.pem,
        "ca.crl": make_crl(ca, [7]).der,
        "junk.bin": b"not a cert",
    }


def _decoded(files: dict[str, bytes]) -> DecodeCache:
    cache = DecodeCache()
    for name, data in files.items():
        decode_value(cache, data, name)
    return cache


def test_saved_decodes_come_back_equal_and_spare_the_decoder(state_dir: Path) -> None:
    files = _files()
    first = _decoded(files)
    assert DecodedStore(state_dir).save_from(first)
    path = state_dir / "cache" / FILE_NAME
    assert path.stat().st_mode & 0o777 == 0o600
    assert (state_dir / "cache").stat().st_mode & 0o777 == 0o700

    fresh = DecodeCache()
    store = DecodedStore(state_dir)
    assert store.load_into(fresh) == len(files)
    for name, data in files.items():
        digest = hashlib.sha256(data).digest()
        assert fresh.decode(data, digest, name) == first.decode(data, digest, name)
    assert fresh.misses == 0  # every file was found: nothing was decoded again
    assert store.save_from(fresh) is False  # nothing new: the file is not rewritten


def test_bytes_holding_a_private_key_leave_nothing_on_disk(state_dir: Path) -> None:
    ca = make_ca("Keyed Root")
    with_key = ca.pem + ca.key_pem
    cache = _decoded({"ca.der": ca.der, "bundle.pem": with_key})
    assert DecodedStore(state_dir).save_from(cache)
    raw = (state_dir / "cache" / FILE_NAME).read_bytes()
    assert hashlib.sha256(with_key).digest() not in raw
    assert b"PRIVATE KEY" not in raw
    assert ca.key_pem not in raw
    fresh = DecodeCache()
    assert DecodedStore(state_dir).load_into(fresh) == 1
    assert [value.private_key_present for _, value in fresh.decoded_items()] == [False]


def test_a_copy_from_another_decoder_is_ignored(state_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert DecodedStore(state_dir).save_from(_decoded(_files()))
    monkeypatch.setattr(decoded_store, "decoder_fingerprint", lambda: b"\0" * 32)
    store = DecodedStore(state_dir)
    assert store.load_into(DecodeCache()) == 0
    assert store.problem is not None and "another version of the decoder" in store.problem


def test_a_foreign_pickle_is_refused_not_run(state_dir: Path, tmp_path: Path) -> None:
    marker = tmp_path / "ran"

    class Payload:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (os.system, (f"touch {marker}",))

    (state_dir / "cache").mkdir(mode=0o700)
    path = state_dir / "cache" / FILE_NAME
    path.write_bytes(MAGIC + decoder_fingerprint() + pickle.dumps({b"\0" * 32: Payload()}))
    path.chmod(0o600)
    store = DecodedStore(state_dir)
    assert store.load_into(DecodeCache()) == 0
    assert not marker.exists()
    assert store.problem is not None and "unreadable" in store.problem


@pytest.mark.parametrize("damage", ["truncated", "not a table"])
def test_a_damaged_copy_is_a_miss_and_is_rewritten(state_dir: Path, damage: str) -> None:
    files = _files()
    assert DecodedStore(state_dir).save_from(_decoded(files))
    path = state_dir / "cache" / FILE_NAME
    data = path.read_bytes()
    head = MAGIC + decoder_fingerprint()
    path.write_bytes(data[: len(data) // 2] if damage == "truncated" else head + pickle.dumps([1, 2]))
    store = DecodedStore(state_dir)
    assert store.load_into(DecodeCache()) == 0
    assert store.save_from(_decoded(files))
    assert DecodedStore(state_dir).load_into(DecodeCache()) == len(files)


def test_a_copy_others_may_write_is_not_trusted(state_dir: Path) -> None:
    assert DecodedStore(state_dir).save_from(_decoded(_files()))
    path = state_dir / "cache" / FILE_NAME
    path.chmod(0o666)
    store = DecodedStore(state_dir)
    assert store.load_into(DecodeCache()) == 0
    assert store.problem is not None and "writable" in store.problem


def test_nothing_is_written_into_a_state_directory_others_may_write(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    store = DecodedStore(shared)
    assert store.save_from(_decoded(_files())) is False
    assert not (shared / "cache").exists()
    assert store.problem is not None and "writable" in store.problem


def test_entries_no_longer_held_are_dropped_at_the_next_save(state_dir: Path) -> None:
    files = _files()
    assert DecodedStore(state_dir).save_from(_decoded(files))
    smaller = {name: data for name, data in files.items() if name != "leaf.pem"}
    assert DecodedStore(state_dir).save_from(_decoded(smaller))
    fresh = DecodeCache()
    assert DecodedStore(state_dir).load_into(fresh) == len(smaller)
    assert hashlib.sha256(files["leaf.pem"]).digest() not in dict(fresh.decoded_items())


def test_values_shared_when_saved_are_shared_when_loaded(state_dir: Path) -> None:
    """Certificates of one CA share their issuer string (``tui.core.shared.shared``); the copy on
    disk keeps that, so a warm start holds no more memory than a cold one."""
    ca = make_ca("Shared Root")
    files = {f"leaf-{n}.der": make_leaf(ca, f"leaf-{n}").der for n in range(3)}
    assert DecodedStore(state_dir).save_from(_decoded(files))
    fresh = DecodeCache()
    assert DecodedStore(state_dir).load_into(fresh) == 3
    leaves = [value.certificates[0] for _digest, value in fresh.decoded_items()]
    assert len({leaf.subject for leaf in leaves}) == 3
    assert len({id(leaf.issuer) for leaf in leaves}) == 1
    assert len({id(leaf.key_usage) for leaf in leaves}) == 1


def test_loading_reserves_memory_for_the_file_not_for_the_cap(state_dir: Path) -> None:
    """Reading ``read(MAX_BYTES + 1)`` made Python reserve the whole 256 MiB cap before the first byte (as
    tracemalloc saw at every start); the read is sized by the file now. Deterministic: no timing involved."""
    import tracemalloc

    assert DecodedStore(state_dir).save_from(_decoded(_files()))
    fresh = DecodeCache()
    tracemalloc.start()
    try:
        assert DecodedStore(state_dir).load_into(fresh) == len(_files())
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < decoded_store.MAX_BYTES // 16
