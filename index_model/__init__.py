"""Composite-index library of the Consumer Environment Index (消费环境指数): pure numpy/pandas, no Dagster.

Works on any unit x indicator table under a YAML spec (hierarchy + methods), following the
OECD/JRC *Handbook on Constructing Composite Indicators* (2008) and matching the R package
COINr 1.1.14 where their methods coincide (verified in ``tests/test_index_model_verification.py``).

Public API::

    spec = load_spec("index_model/specs/default_v2.yaml")      # or default_spec() (goalposts)
    result = compute_index(table, spec, unit_col="region_code", counts=None)
    result.scores / result.ranks / result.normalised            # unit x node tables
    result.long()                                                # unit, node_id, level, score, rank, grade ...
    unc = run_uncertainty(result, runs=1000, seed=1)            # median rank, 5-95 % interval, rank shift
    result.to_mart("province:32", "2025", unc)                   # rows of mart.index_scores
    strengths_weaknesses(result, n=3); explain_change(before, after); contributions(result)
    short_boards(result, previous=before, noise=noise_table(...))   # 短板 / strengths with values
    noise_table(before_rows, after_rows, models); attribute_change(effects, noise)   # "within noise"
    coherence_report(result); methodology_table(result, unc)
    compute_index_files("table.xlsx", "spec.yaml", "out/")      # behind `cei compute-index`

Modules: ``spec`` (YAML spec, validation, indicator-id contract), ``normalise``, ``weights``
(equal/fixed/AHP/entropy), ``aggregate`` (means, ranks, grades), ``prepare`` (denominate, small
counts, impute, screen, winsorise), ``model`` (the computation), ``uncertainty``, ``explain``,
``coherence``, ``io``, ``noise`` (intervals from counts, change vs noise), ``short_boards``.
"""
from __future__ import annotations

from .aggregate import AggregationError, aggregate, grade, rank_desc
from .coherence import coherence_report, cronbach_alpha, methodology_table, weights_table
from .explain import ChangeExplanation, contributions, explain_change, strengths_weaknesses
from .io import compute_index_files, long_to_wide, read_table, result_tables, spec_from_coinr_imeta, write_outputs
from .model import DataError, IndexResult, compute_index
from .noise import attribute_change, change_interval, change_verdicts, noise_models, noise_table, poisson_interval, \
    value_interval, wilson_interval
from .normalise import distance_to_target, goalposts, minmax, normalise, percentile_rank, zscore
from .short_boards import short_boards
from .spec import (IndexSpec, SpecError, default_spec, default_spec_path, dump_spec, load_spec, resolve_goalposts,
                   shipped_spec_path)
from .uncertainty import UncertaintyResult, run_uncertainty
from .weights import RANDOM_INDEX_TABLES, AHPError, AHPResult, ahp_weights, entropy_weights

__all__ = [
    "AHPError", "AHPResult", "AggregationError", "ChangeExplanation", "DataError", "IndexResult", "IndexSpec",
    "RANDOM_INDEX_TABLES", "SpecError", "UncertaintyResult", "aggregate", "ahp_weights", "coherence_report",
    "compute_index", "compute_index_files", "contributions", "cronbach_alpha", "default_spec",
    "default_spec_path", "distance_to_target", "dump_spec", "entropy_weights", "explain_change", "goalposts",
    "grade", "load_spec", "long_to_wide", "methodology_table", "minmax", "normalise", "percentile_rank",
    "rank_desc", "read_table", "resolve_goalposts", "result_tables", "run_uncertainty", "shipped_spec_path", "spec_from_coinr_imeta",
    "strengths_weaknesses", "weights_table", "write_outputs", "zscore",
    "attribute_change", "change_interval", "change_verdicts", "noise_models", "noise_table", "poisson_interval",
    "short_boards", "value_interval", "wilson_interval",
]
