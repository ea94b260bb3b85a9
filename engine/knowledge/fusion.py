"""Reciprocal rank fusion: one ranking out of several (full-text and vector search).

RRF (Cormack, Clarke and Buettcher, SIGIR 2009) scores an item by the sum of 1 / (k + rank) over
the rankings it appears in. It needs no score calibration between rankers (ts_rank and cosine
similarity are not comparable), rewards agreement, and k = 60 damps the weight of the very top
ranks as in the paper.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TypeVar

K = TypeVar("K", bound=Hashable)
DEFAULT_K = 60


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[K]], *, k: int = DEFAULT_K
) -> list[tuple[K, float]]:
    """Items of all `rankings` (each best first) with their fused score, best first.

    Ties keep the order in which the items were first met (the earlier ranking's first), so the
    result is deterministic. An item repeated within one ranking counts at its best rank only.
    """
    if k < 0:
        raise ValueError(f"k must be >= 0, got {k}")
    scores: dict[K, float] = {}
    for ranking in rankings:
        seen: set[K] = set()
        for rank, item in enumerate(ranking, start=1):
            if item in seen:
                continue
            seen.add(item)
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
    order = {item: position for position, item in enumerate(scores)}
    return sorted(scores.items(), key=lambda pair: (-pair[1], order[pair[0]]))
