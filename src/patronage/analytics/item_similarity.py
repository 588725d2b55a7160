"""Item-to-item cosine similarity over a sparse member x item matrix (SciPy).

The matrix holds each member's summed interaction weight per SKU. Two items are
similar when the same members interact with both: cos(i, j) = x_i . x_j / |x_i||x_j|
over the item columns. Only the ``top_n`` most similar neighbours of each item are
kept, which is what the stored model serves from.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from patronage.domain.recommendations import Interaction

BLOCK = 1024


@dataclass(frozen=True)
class Neighbours:
    skus: list[str]
    members: int
    neighbours: dict[str, list[tuple[str, float]]]


def member_item_matrix(
    interactions: Sequence[Interaction],
) -> tuple[sp.csr_matrix, list[int], list[str]]:
    """Members as rows, SKUs as columns (both in sorted order), weights summed."""
    members = sorted({i.member_id for i in interactions})
    skus = sorted({i.sku for i in interactions})
    row_of = {m: n for n, m in enumerate(members)}
    col_of = {s: n for n, s in enumerate(skus)}
    rows = np.fromiter((row_of[i.member_id] for i in interactions), dtype=np.int64)
    cols = np.fromiter((col_of[i.sku] for i in interactions), dtype=np.int64)
    data = np.fromiter((i.weight for i in interactions), dtype=np.float64)
    matrix = sp.csr_matrix((data, (rows, cols)), shape=(len(members), len(skus)))
    matrix.sum_duplicates()
    return matrix, members, skus


def cosine_neighbours(interactions: Sequence[Interaction], top_n: int = 30) -> Neighbours:
    """The ``top_n`` most similar items of every item (similarity > 0), best first."""
    if not interactions:
        return Neighbours([], 0, {})
    matrix, members, skus = member_item_matrix(interactions)
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=0)).ravel())
    inverse = sp.diags(np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0))
    normalised = (matrix @ inverse).tocsc()
    similarity = (normalised.T @ normalised).tocsr()
    found: dict[str, list[tuple[str, float]]] = {}
    keep = min(top_n, max(len(skus) - 1, 0))
    for start in range(0, len(skus), BLOCK):
        block = similarity[start : start + BLOCK].toarray()
        rows = np.arange(block.shape[0])
        block[rows, rows + start] = 0.0  # an item is not its own neighbour
        if keep == 0:
            continue
        best = np.argpartition(-block, keep - 1, axis=1)[:, :keep]
        best_scores = np.take_along_axis(block, best, axis=1)
        order = np.lexsort((best, -best_scores), axis=1)
        best = np.take_along_axis(best, order, axis=1)
        best_scores = np.take_along_axis(best_scores, order, axis=1)
        for offset in range(block.shape[0]):
            found[skus[start + offset]] = [
                (skus[j], round(float(s), 6))
                for j, s in zip(best[offset], best_scores[offset], strict=True)
                if s > 0
            ]
    return Neighbours(skus, len(members), found)
