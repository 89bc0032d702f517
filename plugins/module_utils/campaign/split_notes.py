# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)
"""Why the members of a redundancy group ended up in several batches of a step (``batches[i].notes``).

PRIVATE to the collection. The batching (resolve.spread) puts each host into the earliest batch that has room
and holds fewer than the allowed members of each of its redundancy groups, and records, as it places a host,
what kept it out of each earlier batch: the batch was full (the canary, or the batch size), or one of its
redundancy groups had as many members there as may be down. The notes say that for every group whose members
are in several batches of a step; a group split only because its batches are full at the batch size is left
unexplained (that is what a batch size means).
"""

from __future__ import annotations

from .inventory import RedundancySet, natural_sorted


def split_notes(sets: list[RedundancySet], limits: list[tuple[frozenset, int]], why: dict, batches: list[dict],
                size: int, canary: int) -> None:
    """Append to each batch of one step (*batches*, the first one a canary of *canary* hosts when > 0) the note
    of every redundancy group split over it and another batch. *limits*: resolve.redundancy_limits' (members,
    allowed) per group that may lose a member; *why*: what spread() recorded."""
    label_of = {number: next(rset.label for rset in sets if rset.members == members)
                for number, (members, _allowed) in enumerate(limits)}
    for number, (members, allowed) in enumerate(limits):
        where = [batch for batch in batches if members & set(batch["hosts"])]
        if len(where) < 2:
            continue
        causes: list[str] = []
        for position, batch in enumerate(where[1:], start=1):
            for host in natural_sorted(members & set(batch["hosts"])):
                for earlier in where[:position]:
                    kept = why.get((host, earlier["index"] - batches[0]["index"]))
                    cause = _said(kept, host, earlier, number, limits, label_of, size, canary > 0 and earlier is batches[0])
                    if cause and cause not in causes:
                        causes.append(cause)
        if all(cause.startswith("a batch of this step holds") for cause in causes):
            continue
        split = natural_sorted(members & {host for batch in where for host in batch["hosts"]})
        indices = ", ".join(str(batch["index"]) for batch in where)
        note = (f"redundancy group {label_of[number]}: {', '.join(split)} are split over batches {indices} "
                f"because {' and '.join(causes)}")
        for batch in where:
            batch["notes"].append(note)


def _said(kept, host, batch, number, limits, label_of, size, is_canary) -> str:
    """What kept *host* out of *batch*, in words ("" when nothing was recorded)."""
    if kept is None:
        return ""
    if kept == "full":
        if is_canary:
            return f"the canary batch {batch['index']} holds {len(batch['hosts'])} host(s)"
        return f"a batch of this step holds {size} host(s)"
    if kept == number:
        return f"it allows {limits[number][1]} member(s) down at a time"
    return (f"{host} is also in redundancy group {label_of[kept]}, which allows {limits[kept][1]} member(s) "
            f"down at a time and has as many in batch {batch['index']}")
