"""Weighting methods: equal, fixed, AHP (Saaty) and entropy (熵权法).

* Equal weights within each parent (OECD/JRC Handbook 2008, §6; COINr default ``Weight = 1``).
* Fixed expert weights: given in the spec, must add up to 1 per parent (checked by ``spec.load_spec``).
* AHP (层次分析法, Saaty 1980): weights from a reciprocal pairwise-comparison matrix ``A`` on the
  1-9 scale. Estimators:

  - ``eigenvector`` (特征根法, default): principal right eigenvector of ``A`` (``numpy.linalg.eig``),
    normalised to sum 1;
  - ``geometric_mean`` (方根法): ``w_i ∝ (prod_j a_ij)^(1/n)``;
  - ``column_normalise`` (和积法; what ArcGIS Pro documents): normalise each column to sum 1, average rows.

  Consistency: ``lambda_max = mean_i((A w)_i / w_i)``, ``CI = (lambda_max - n)/(n - 1)``,
  ``CR = CI / RI(n)`` with a NAMED random-index table (:data:`RANDOM_INDEX_TABLES`; default
  :data:`DEFAULT_RANDOM_INDEX` = ``chinese_textbook``, always reported in the methodology); matrices of
  order n <= 2 are always consistent (CR = 0). Judgements with ``CR > 0.1`` are refused by the spec
  loader unless the spec sets ``allow_inconsistent: true``.
* Entropy weights (熵权法; Zeleny 1982, Hwang & Yoon 1981): ``p_ij = z_ij / sum_i z_ij``,
  ``e_j = -(1/ln n) sum_i p_ij ln p_ij`` (``0 ln 0 := 0``), ``d_j = 1 - e_j``,
  ``w_j = d_j / sum_k d_k``. Variants (:data:`ENTROPY_VARIANTS`) differ only in ``z``:

  - ``raw`` (V1, textbook Hwang & Yoon): ``z = x`` (non-negative raw data; direction ignored);
  - ``minmax`` (V2, common Chinese practice, project default): direction-aware min-max
    standardisation ``z = (x - min)/(max - min)`` or ``(max - x)/(max - min)``;
  - ``minmax_shifted`` (V3): ``z' = 0.99 z + 0.01`` (``shift`` configurable) so no share is zero.

  A constant column (max = min) carries no information: its ``d_j`` is set to 0 (weight 0). If all
  columns are constant the weights are equal. Missing values are ignored column by column
  (``n`` = number of non-missing values of that column).

Inside the hierarchy, entropy weights of a node are computed from its children's values as they
enter the aggregation (normalised indicators or child scores, already direction-adjusted, so
directions are +1); for the ``minmax`` variants this equals computing them on the raw,
direction-adjusted indicators whenever the normalisation is affine (min-max, z-score).
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Sequence

import numpy as np

__all__ = [
    "RANDOM_INDEX_TABLES",
    "ENTROPY_VARIANTS",
    "AHP_ESTIMATORS",
    "AHPError",
    "DEFAULT_RANDOM_INDEX",
    "AHPResult",
    "EntropyResult",
    "ahp_weights",
    "parse_pairwise_matrix",
    "random_index",
    "entropy_weights",
    "equal_weights",
    "normalise_weights",
]

#: Random consistency index RI(n), n = 1..15 (index 0 = n 1). Sources: verification/weights_ahp_entropy.
RANDOM_INDEX_TABLES: dict[str, tuple[float, ...]] = {
    # Saaty (1980) classic table — ArcGIS and most English-language tools.
    "saaty_classic": (0, 0, 0.58, 0.90, 1.12, 1.24, 1.32, 1.41, 1.45, 1.49, 1.51, 1.48, 1.56, 1.57, 1.59),
    # The table printed in most Chinese AHP textbooks and code.
    "chinese_textbook": (0, 0, 0.52, 0.89, 1.12, 1.26, 1.36, 1.41, 1.46, 1.49, 1.52, 1.54, 1.56, 1.58, 1.59),
    # Saaty (2005), Theory and Applications of the ANP, p. 31 (AHPy random_index='saaty').
    "saaty_2005": (0, 0, 0.52, 0.89, 1.11, 1.25, 1.35, 1.40, 1.45, 1.49, 1.52, 1.54, 1.56, 1.58, 1.59),
}
#: Table used when a spec does not name one: the Chinese textbook table, which Chinese-language AHP
#: documentation expects (docs/index-methods.md §4.2). Name the table in the spec to be explicit.
DEFAULT_RANDOM_INDEX = "chinese_textbook"
AHP_ESTIMATORS = ("eigenvector", "geometric_mean", "column_normalise")
ENTROPY_VARIANTS = ("raw", "minmax", "minmax_shifted")


class AHPError(ValueError):
    """Invalid or (when checked) inconsistent pairwise-comparison matrix."""


@dataclass(frozen=True)
class AHPResult:
    weights: np.ndarray
    lambda_max: float
    ci: float
    cr: float
    ri: float
    random_index_table: str
    estimator: str

    @property
    def consistent(self) -> bool:
        """Saaty's rule: CR < 0.10."""
        return self.cr < 0.1


@dataclass(frozen=True)
class EntropyResult:
    weights: np.ndarray
    entropy: np.ndarray
    divergence: np.ndarray
    variant: str


def equal_weights(n: int) -> np.ndarray:
    """``n`` equal weights summing to 1."""
    if n <= 0:
        raise ValueError("need at least one weight")
    return np.full(n, 1.0 / n)


def normalise_weights(w: Sequence[float]) -> np.ndarray:
    a = np.asarray(w, dtype=float)
    s = a.sum()
    if not np.isfinite(s) or s <= 0:
        raise ValueError(f"weights {list(a)} do not have a positive sum")
    return a / s


def _parse_entry(v: Any) -> float:
    if isinstance(v, str):
        return float(Fraction(v.strip()))
    return float(v)


def parse_pairwise_matrix(matrix: Any, *, reciprocal_rtol: float = 0.01) -> np.ndarray:
    """Parse a square pairwise-comparison matrix (numbers or fractions such as ``"1/3"``) and check it.

    Requires positive entries, a unit diagonal and reciprocity ``a_ji = 1/a_ij`` within
    ``reciprocal_rtol`` (1% by default, so rounded entries like 0.333 for 1/3 are accepted).
    """
    try:
        a = np.array([[_parse_entry(v) for v in row] for row in matrix], dtype=float)
    except (TypeError, ValueError, ZeroDivisionError) as exc:
        raise AHPError(f"AHP matrix has a non-numeric entry ({exc})") from exc
    if a.ndim != 2 or a.shape[0] != a.shape[1] or a.shape[0] == 0:
        raise AHPError(f"AHP matrix must be square, got shape {a.shape}")
    if not np.all(np.isfinite(a)) or np.any(a <= 0):
        raise AHPError("AHP matrix entries must be positive numbers")
    if not np.allclose(np.diag(a), 1.0):
        raise AHPError("AHP matrix diagonal must be 1")
    n = a.shape[0]
    for i in range(n):
        for j in range(i + 1, n):
            if abs(a[i, j] * a[j, i] - 1.0) > reciprocal_rtol:
                raise AHPError(f"AHP matrix is not reciprocal at ({i + 1},{j + 1}): {a[i, j]:g} vs {a[j, i]:g}")
    return a


def random_index(n: int, table: str = DEFAULT_RANDOM_INDEX) -> float:
    """RI(n) from a named table (n = 1..15)."""
    if table not in RANDOM_INDEX_TABLES:
        raise AHPError(f"unknown random-index table {table!r} (one of {', '.join(RANDOM_INDEX_TABLES)})")
    values = RANDOM_INDEX_TABLES[table]
    if not 1 <= n <= len(values):
        raise AHPError(f"random-index table {table!r} covers n = 1..{len(values)}, not {n}")
    return float(values[n - 1])


def ahp_weights(matrix: Any, *, method: str = "eigenvector", random_index: str = DEFAULT_RANDOM_INDEX) -> AHPResult:
    """AHP priority weights and consistency (see module docstring). Does not refuse inconsistency: check ``.cr``."""
    a = matrix if isinstance(matrix, np.ndarray) else parse_pairwise_matrix(matrix)
    n = a.shape[0]
    if method == "eigenvector":
        vals, vecs = np.linalg.eig(a)
        k = int(np.argmax(vals.real))
        w = np.abs(vecs[:, k].real)
    elif method == "geometric_mean":
        w = np.exp(np.log(a).mean(axis=1))
    elif method == "column_normalise":
        w = (a / a.sum(axis=0, keepdims=True)).mean(axis=1)
    else:
        raise AHPError(f"unknown AHP estimator {method!r} (one of {', '.join(AHP_ESTIMATORS)})")
    w = w / w.sum()
    lam = float(np.mean((a @ w) / w))
    ci = (lam - n) / (n - 1) if n > 2 else 0.0
    ri = _ri(n, random_index)
    cr = ci / ri if n > 2 and ri > 0 else 0.0
    return AHPResult(weights=w, lambda_max=lam, ci=float(ci), cr=float(cr), ri=ri,
                     random_index_table=random_index, estimator=method)


def _ri(n: int, table: str) -> float:
    return random_index(n, table)


def entropy_weights(x: Any, directions: Sequence[int] | None = None, *, variant: str = "minmax",
                    shift: float = 0.01) -> EntropyResult:
    """Entropy weights of the columns of ``x`` (units x indicators); see the module docstring for variants."""
    if variant not in ENTROPY_VARIANTS:
        raise ValueError(f"unknown entropy variant {variant!r} (one of {', '.join(ENTROPY_VARIANTS)})")
    a = np.asarray(x, dtype=float)
    if a.ndim != 2:
        raise ValueError("entropy_weights needs a 2-D array (units x indicators)")
    m = a.shape[1]
    d = np.ones(m) if directions is None else np.asarray(directions, dtype=float)
    ent = np.full(m, np.nan)
    div = np.zeros(m)
    for j in range(m):
        col = a[:, j]
        col = col[~np.isnan(col)]
        n = col.size
        if n < 2:
            continue
        if variant == "raw":
            if np.any(col < 0):
                raise ValueError("entropy variant 'raw' needs non-negative data")
            z = col
        else:
            lo, hi = col.min(), col.max()
            if hi == lo:
                continue  # constant column: no information, weight 0
            z = (col - lo) / (hi - lo) if d[j] >= 0 else (hi - col) / (hi - lo)
            if variant == "minmax_shifted":
                z = (1.0 - shift) * z + shift
        total = z.sum()
        if total <= 0:
            continue
        p = z / total
        with np.errstate(divide="ignore", invalid="ignore"):
            plogp = np.where(p > 0, p * np.log(p), 0.0)
        e = -plogp.sum() / np.log(n)
        ent[j] = e
        div[j] = 1.0 - e
    if div.sum() <= 0:
        w = np.full(m, 1.0 / m)
    else:
        w = div / div.sum()
    return EntropyResult(weights=w, entropy=ent, divergence=div, variant=variant)
