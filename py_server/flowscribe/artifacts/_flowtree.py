"""Which flows a run's artifacts talk about, in what order, and how they nest."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flowscribe.aggregate import RunAggregate
    from flowscribe.catalog import Catalog

__all__ = ["catalog_ids", "ordered_flows", "parent_of", "tree_lines"]


def catalog_ids(catalog: Catalog | None, enabled_only: bool = False) -> list[str]:
    """The catalog's flow ids in file order."""
    if catalog is None:
        return []
    return [s.id for s in catalog.flows.values() if s.enabled or not enabled_only]


def ordered_flows(agg: RunAggregate, catalog: Catalog | None) -> list[str]:
    """The flows this run used: catalog order first, then the others alphabetically."""
    known = [f for f in catalog_ids(catalog) if f in agg.flows]
    rest = sorted(f for f in agg.flows if catalog is None or f not in catalog.flows)
    return known + rest


def parent_of(flow_id: str, agg: RunAggregate, catalog: Catalog | None) -> str | None:
    """The catalog's parent, else the parent flow the run observed."""
    spec = catalog.get(flow_id) if catalog is not None else None
    if spec is not None and spec.parent:
        return spec.parent
    stats = agg.flows.get(flow_id)
    return stats.parent_flow if stats is not None else None


def tree_lines(
    agg: RunAggregate, catalog: Catalog | None, include_unseen: bool = True
) -> list[tuple[int, str]]:
    """(depth, flow id) pairs of the flow hierarchy, each flow once, parents first.

    With ``include_unseen``, enabled catalog flows the run never used are part of the tree
    (the sketch marks them as not run). A parent cycle cannot loop: each id shows once.
    """
    ids = ordered_flows(agg, catalog)
    if include_unseen:
        ids += [f for f in catalog_ids(catalog, enabled_only=True) if f not in agg.flows]
    present = set(ids)
    children: dict[str | None, list[str]] = {}
    for fid in ids:
        parent = parent_of(fid, agg, catalog)
        key = parent if parent in present and parent != fid else None
        children.setdefault(key, []).append(fid)
    out: list[tuple[int, str]] = []
    seen: set[str] = set()

    def walk(fid: str, depth: int) -> None:
        if fid in seen:
            return
        seen.add(fid)
        out.append((depth, fid))
        for child in children.get(fid, []):
            walk(child, depth + 1)

    for root in children.get(None, []):
        walk(root, 0)
    for fid in ids:  # members of a parent cycle have no root above them
        walk(fid, 0)
    return out
