"""Which site a change session is connected to, and whether a journal was written for it.

A journal is a record of writes to one cluster, one vault and some ARM resources; resuming or rolling it
back anywhere else redoes or undoes writes on a site that never had them (trial finding 1: two sites whose
contexts were both ``aio-demo``). The identity is the core's :class:`~tui.core.changes.journal.SiteIdentity`;
this module reads it from a connection and the objects just read, and judges journals against it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tui.core.changes.journal import SiteIdentity, site_difference
from tui.core.model import resources as rk
from tui.core.model.arm import RESOURCE_ID_ANNOTATION
from tui.core.model.snapshot import RawSnapshot
from tui.core.text import printable
from tui.ops.journal import JournalError, JournalInfo

SYSTEM_NAMESPACE = "kube-system"
"""Made when the cluster is created and never deleted: its UID names the cluster."""
UNCHECKED_FLAG = "--site-unchecked"


class OtherSite(JournalError):
    """The journal was written for another site (or records none); ``str()`` is one line."""


def cluster_uid(raw: RawSnapshot) -> str | None:
    """The UID of the ``kube-system`` Namespace among the objects read, or None when it was not read."""
    for obj in raw.items(rk.NAMESPACES.key):
        meta = obj.get("metadata") or {}
        if meta.get("name") == SYSTEM_NAMESPACE and meta.get("uid"):
            return str(meta["uid"])
    return None


def arm_resource_ids(raw: RawSnapshot) -> tuple[str, ...]:
    """The ARM resource ids the site's SecretProviderClasses and SecretSyncs name (their annotation)."""
    out: dict[str, None] = {}
    for kind in (rk.SECRET_PROVIDER_CLASSES, rk.SECRET_SYNCS):
        for obj in raw.items(kind.key):
            annotations: Mapping[str, Any] = (obj.get("metadata") or {}).get("annotations") or {}
            if annotations.get(RESOURCE_ID_ANNOTATION):
                out[str(annotations[RESOURCE_ID_ANNOTATION])] = None
    return tuple(out)


def site_of(server: str, raw: RawSnapshot | None, vault_url: str | None) -> SiteIdentity:
    """The identity of the site behind a connection to ``server``, the objects read from it and its vault."""
    if raw is None:
        return SiteIdentity(server, None, vault_url or None)
    return SiteIdentity(server, cluster_uid(raw), vault_url or None, arm_resource_ids(raw))


def refuse_other_site(info: JournalInfo, current: SiteIdentity, *, unchecked: bool, action: str) -> None:
    """Raise :class:`OtherSite` unless ``info`` was written for ``current`` (or ``unchecked`` says the user
    vouches for it); ``action`` is ``resume`` or ``rollback``."""
    if unchecked:
        return
    difference = site_difference(info.site, current)
    if difference is None:
        return
    name = printable(info.id)
    if info.site is None:
        how = (
            f"if the current connection is that site (context {printable(info.context or '?')}), "
            f"`aio-certs journal {action} {name} {UNCHECKED_FLAG}`"
        )
    else:
        how = (
            "point at its site (--context or --kubeconfig, --vault-url), or, if this is that site "
            f"reached another way, `aio-certs journal {action} {name} {UNCHECKED_FLAG}`"
        )
    raise OtherSite(f"journal {name} is not for the site connected now: {printable(difference)}; {how}")


@dataclass(frozen=True)
class SiteJournal:
    """A journal and how it stands to the site connected now."""

    info: JournalInfo
    other: str | None
    """How its site differs from the current one (one line); None when it is this site's."""


def by_site(infos: Sequence[JournalInfo], current: SiteIdentity) -> list[SiteJournal]:
    """Each journal with how its site differs from ``current``.

    A journal that cannot be read, or that records no site (an earlier aio-certs), counts as this site's:
    hiding it could hide an apply left half-way here; its resume is still refused without the flag.
    """
    out = []
    for info in infos:
        other = None if info.problem or info.site is None else site_difference(info.site, current)
        out.append(SiteJournal(info, other))
    return out


def read_site(
    api_client: Any, server: str, vault_url: str | None, *, timeout: tuple[float, float]
) -> SiteIdentity:
    """The identity of the site at ``server`` from one cheap read (the ``kube-system`` Namespace), for a
    listing that reads nothing else; a read that fails (forbidden, unreachable) leaves the UID unknown,
    and the API server URL then tells sites apart."""
    from tui.cluster.listwatch import WatchTarget, get_object

    uid = None
    try:
        namespace = get_object(api_client, WatchTarget(rk.NAMESPACES), SYSTEM_NAMESPACE, timeout=timeout)
        uid = (namespace.get("metadata") or {}).get("uid") or None
    except Exception:  # any failure only makes the identity coarser; the listing still lists
        uid = None
    return SiteIdentity(server, str(uid) if uid else None, vault_url or None)


def journals_of(infos: Sequence[JournalInfo], current: SiteIdentity) -> list[JournalInfo]:
    """The journals of the site ``current`` (with those that cannot be read or record no site)."""
    return [j.info for j in by_site(infos, current) if j.other is None]
