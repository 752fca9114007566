"""What an index run targets when nobody says, and what it must satisfy before it is written
(no Dagster here: ``assets/index.py`` turns these into blocking asset checks).

* The default scope comes from the data: records of several provinces -> ``CN``; of one province
  spread over several prefectures -> that province (its prefectures are ranked); of one prefecture
  -> that prefecture (its counties are ranked). A prefecture's data never gets scope ``32``, where
  every other prefecture would be scored from nothing.
* The blocking checks on a period's scores: no NaN score for the composite or a dimension, at
  least two regions ranked, every region of the scope present, every aggregate's weights sum to 1.
"""
from __future__ import annotations

import math

# check name -> what it guarantees (AssetCheckSpec descriptions)
INDEX_CHECKS = {
    "no_nan_scores": "every ranked region has a composite and a dimension score (no NaN)",
    "at_least_two_regions": "at least two regions are ranked in every period",
    "expected_regions_present": "every region of the scope (GB/T 2260 units) is ranked",
    "weights_sum_to_one": "the weights of every aggregate's children sum to 1",
}
WEIGHT_TOLERANCE = 1e-6


def scope_from_regions(rows) -> str:
    """The scope for ``(province, prefecture)`` rows of the data (``sql/pipelines/data_scope.sql``)."""
    from reference import resolve_scope

    provinces = sorted({p for p, _ in rows if p})
    if len(provinces) != 1:
        return "CN"
    prefectures = sorted({q for _, q in rows if q})
    if len(prefectures) == 1:
        try:
            info = resolve_scope(prefectures[0])
        except ValueError:  # a 直辖市's districts (1101): ranked by the province scope
            return provinces[0]
        if len(info.get("counties", [])) >= 2:
            return prefectures[0]
    return provinces[0]


def _nan(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def index_problems(run, expected_units) -> dict[str, list[str]]:
    """Problems per check (empty lists: passed) for one computed period (``indicators.scores.IndexRun``)."""
    spec, result = run.spec, run.result
    scores = result.scores
    units = [str(u) for u in scores.index]
    published = [spec.root, *spec.children(spec.root)]  # the composite and the dimensions
    nan = [f"{u} {node}" for node in published if node in scores for u, v in zip(units, scores[node]) if _nan(v)]
    # a region is ranked when it has a composite score (a row of NaN is no ranking)
    ranked = [u for u, v in zip(units, scores[spec.root]) if not _nan(v)] if spec.root in scores else []
    missing = sorted(set(map(str, expected_units)) - set(ranked))
    weights = [f"{agg} {float(w.sum()):.6f}" for agg, w in result.weights.items()
               if abs(float(w.sum()) - 1.0) > WEIGHT_TOLERANCE]
    return {
        "no_nan_scores": nan,
        "at_least_two_regions": [] if len(ranked) >= 2 else [f"{len(ranked)} region(s) ranked"],
        "expected_regions_present": [f"missing {', '.join(missing[:10])}" + (" ..." if len(missing) > 10 else "")]
        if missing else [],
        "weights_sum_to_one": weights,
    }


def no_scores_problems(period: str) -> dict[str, list[str]]:
    """A period without indicator values: nothing ranked."""
    return {name: ([f"{period}: no indicator values"] if name in ("at_least_two_regions",
                                                                  "expected_regions_present") else [])
            for name in INDEX_CHECKS}
