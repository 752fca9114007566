"""Synthetic 12315, sampling, hotline and region-profile data (real 12315 records are not public).

Usage::

    from pathlib import Path
    from synthetic import GeneratorConfig, generate

    summary = generate(GeneratorConfig(scope="32", years=(2024, 2025), records_per_year=60000, seed=7,
                                       out_dir=Path("data/landing"), defect_rate=0.0, file_format="csv",
                                       encoding="utf-8", chinese_headers=False),
                       progress=None)   # progress(message, done, total) is called after each file

Files written to ``out_dir`` (``ext`` = csv | xlsx | parquet; columns and order exactly as
``ingestion.schema``, canonical names or, with ``chinese_headers``, the ``.zh`` headers; every value a
string as a bureau exports it — ``2025-03-05 09:12:00``, ``1299.00``, ``是``/``否``, empty = missing):

- ``complaints_YYYY-MM.ext``        12315 投诉/举报/咨询 received that month (``complaints``)
- ``sampling_results_YYYY-MM.ext``  commodity sampling batches sampled that month (``sampling``)
- ``hotline_stats_YYYY.ext``        calls per hotline unit and month (``aggregates``)
- ``region_profiles_YYYY.ext``      yearbook figures per prefecture and county (``aggregates``)
- ``ground_truth_defects.csv``      ``file,record_id,family`` for every injected defect (``defects``);
  record_id is the 登记编号 / 样品编号, ``unit_id|YYYY-MM`` for hotline rows (profiles get no defects)
- ``region_traits.csv``             ``region_code,level,trait,value``: the latent traits that drive each
  region's rates (``regions``; z-scores, higher = better for consumers)
- ``manifest.json``                 parameters, seed, export cut-off, files with rows and sha256, defect
  counts, planted complaint surges, trait documentation

Modules: ``config`` (parameters), ``regions`` (scope, populations, traits), ``businesses`` (respondent,
seller and manufacturer pools with GB 32100 codes), ``people`` (complainants with GB 11643 ID numbers),
``text`` (free text), ``complaints``, ``sampling``, ``aggregates``, ``defects``, ``export`` (CSV / XLSX /
Parquet writers), ``generate`` (orchestration), ``codes``, ``timeutil``, ``vocab``.
"""
from .config import GeneratorConfig, as_years
from .generate import generate

__all__ = ["GeneratorConfig", "as_years", "generate"]
