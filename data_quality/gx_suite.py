"""Great Expectations (GX 1.24) suites generated from the rulebook, for pandas batches.

Where GX fits: column-level expectations (not null, in a code list, within a range, a valid
USCC) on bounded pandas batches — e.g. a bureau's delivered file in a notebook, or the quality
assets' check, which validates each month's bounded sample in turn (:func:`validate_partitions`,
at most :data:`GX_SAMPLE_ROWS` rows a month: memory does not grow with the data). The gate itself runs the SQL engine
(:mod:`data_quality.engine`): GX's SQL path on DuckDB is broken in 1.24.1, and whole-table rules
(duplicates, deadlines) are no column expectations. Both read the same rulebook: a rule with a
``gx`` entry becomes GX expectations carrying ``meta.rule_id``, and the tests pin that GX and the
SQL engine flag the same rows for those rules.

The USCC expectation is a custom ``ColumnMapExpectation`` whose pandas metric calls the
vectorised :func:`data_quality.codes.uscc_valid_array` (never ``Series.map``: 12 s vs 1.8 s at
4.7M rows, engineering-notes §2.4). GX is imported lazily (≈2.5 s) and its progress bars are off.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import pandas as pd

from data_quality.rulebook import Rulebook, load_rulebook_full

GX_EXPECTATIONS = (
    "expect_column_values_to_not_be_null",
    "expect_column_values_to_be_in_set",
    "expect_column_values_to_be_between",
    "expect_column_values_to_be_valid_uscc",
)


@lru_cache(maxsize=1)
def _custom_uscc_expectation():
    """Define (once per process) the GB 32100 column-map expectation."""
    from great_expectations.execution_engine import PandasExecutionEngine
    from great_expectations.expectations.expectation import ColumnMapExpectation
    from great_expectations.expectations.metrics import ColumnMapMetricProvider, column_condition_partial

    from data_quality.codes import uscc_valid_array

    class ColumnValuesValidUsccGb32100(ColumnMapMetricProvider):
        condition_metric_name = "column_values.valid_uscc_gb32100"

        @column_condition_partial(engine=PandasExecutionEngine)
        def _pandas(cls, column, **kwargs):  # noqa: N805 — GX's metric-provider signature
            return pd.Series(uscc_valid_array(column), index=column.index)

    class ExpectColumnValuesToBeValidUscc(ColumnMapExpectation):
        """GB 32100-2015 format and check character; lower case is invalid (strict)."""

        map_metric = "column_values.valid_uscc_gb32100"
        success_keys = ("mostly",)

    return ExpectColumnValuesToBeValidUscc


def build_expectations(table: str, rulebook: Rulebook | None = None) -> list:
    """GX expectation objects (fresh each call: GX refuses to share one between suites)."""
    import great_expectations as gx

    from data_quality.rulebook import _vocabularies

    rb = rulebook or load_rulebook_full()
    vocab = _vocabularies()
    out = []
    for rule in rb.for_table(table):
        spec = rule.gx
        if not spec:
            continue
        meta = {"rule_id": rule.id, "severity": rule.severity, "dimension": rule.dimension}
        cols = spec.get("columns") or [spec["column"]]
        name = spec["expectation"]
        for col in cols:
            if name == "expect_column_values_to_not_be_null":
                out.append(gx.expectations.ExpectColumnValuesToNotBeNull(column=col, meta=meta))
            elif name == "expect_column_values_to_be_in_set":
                out.append(gx.expectations.ExpectColumnValuesToBeInSet(
                    column=col, value_set=list(vocab[spec["vocabulary"]]), meta=meta))
            elif name == "expect_column_values_to_be_between":
                out.append(gx.expectations.ExpectColumnValuesToBeBetween(
                    column=col, min_value=spec.get("min_value"), max_value=spec.get("max_value"), meta=meta))
            elif name == "expect_column_values_to_be_valid_uscc":
                out.append(_custom_uscc_expectation()(column=col, meta=meta))
            else:
                raise ValueError(f"rule {rule.id}: GX expectation {name!r} not supported ({GX_EXPECTATIONS})")
    return out


HIT_COLUMNS = ["row_ref", "rule_id", "column", "value"]
# rows of a month GX validates (sql/dq/gx_batch.sql): a bounded sample, so the check's memory does not
# grow with the data (issue 12); a month with fewer rows is validated whole
GX_SAMPLE_ROWS = 10_000  # error share estimated within ~0.3 points (standard error at 10%, the threshold)
GX_BATCH_NOTE = (f"per partition (month): at most {GX_SAMPLE_ROWS:,} staged rows, those with the smallest hash of "
                 "(load_id, source_row), the whole partition when smaller; the gate's SQL rules check every row")


def validate_frame(df: pd.DataFrame, table: str, rulebook: Rulebook | None = None) -> pd.DataFrame:
    """Run the table's GX expectations on a DataFrame; one row per (failing row, rule).

    Columns ``row_ref`` (position in ``df``, as a string like the SQL engine's), ``rule_id``,
    ``column``, ``value``. Rules whose columns the frame lacks are not run.
    """
    return GxValidator(table, rulebook).validate(df)


class GxValidator:
    """:func:`validate_frame` for many batches of one table: one GX context and suite for them all
    (rebuilt only when a batch has other columns), one batch in memory at a time."""

    def __init__(self, table: str, rulebook: Rulebook | None = None):
        self.table, self.rulebook = table, rulebook
        self._vd, self._columns = None, None

    def _definition(self, columns: set[str]):
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        if columns == self._columns:
            return self._vd
        self._columns, self._vd = columns, None
        expectations = [e for e in build_expectations(self.table, self.rulebook) if e.column in columns]
        if expectations:
            ctx = gx.get_context(mode="ephemeral")
            ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
            batch = (ctx.data_sources.add_pandas("dq").add_dataframe_asset(self.table)
                     .add_batch_definition_whole_dataframe("batch"))
            suite = ctx.suites.add(gx.ExpectationSuite(name=f"dq_{self.table}", expectations=expectations))
            self._vd = ctx.validation_definitions.add(gx.ValidationDefinition(name=f"dq_{self.table}", data=batch,
                                                                              suite=suite))
        return self._vd

    def validate(self, df: pd.DataFrame) -> pd.DataFrame:
        frame = df.reset_index(drop=True).copy()
        frame.insert(0, "_row", range(len(frame)))
        vd = self._definition(set(frame.columns))
        if vd is None:
            return pd.DataFrame(columns=HIT_COLUMNS)
        result = vd.run(batch_parameters={"dataframe": frame},
                        result_format={"result_format": "COMPLETE", "unexpected_index_column_names": ["_row"]})
        rows = []
        for r in result.results:
            col = r.expectation_config.kwargs["column"]
            for hit in r.result.get("unexpected_index_list") or []:
                rows.append({"row_ref": str(int(hit["_row"])), "rule_id": r.expectation_config.meta["rule_id"],
                             "column": col, "value": hit.get(col)})
        return pd.DataFrame(rows, columns=HIT_COLUMNS)


@dataclass
class PartitionsResult:
    """GX on the partitions of one table (:func:`validate_partitions`)."""

    unexpected_by_rule: dict[str, int]  # hits per rule over every batch
    rows_validated: dict[str, int]  # partition -> rows in its batch
    rows_failing: dict[str, int]  # partition -> rows of its batch failing an error rule

    @property
    def share(self) -> dict[str, float]:
        """Partition -> rows failing an error rule / rows validated (partitions with rows)."""
        return {p: self.rows_failing.get(p, 0) / n for p, n in self.rows_validated.items() if n}


def validate_partitions(con, table: str, partitions, error_rules, rulebook: Rulebook | None = None,
                        sample_rows: int = GX_SAMPLE_ROWS) -> PartitionsResult:
    """Validate each partition's bounded batch (sql/dq/gx_batch.sql, :data:`GX_BATCH_NOTE`) in turn;
    only the counts are kept. ``error_rules``: the rule ids whose hits count as failing rows."""
    from ingestion.sqlfiles import known_table, sql_text

    sql = sql_text("dq/gx_batch.sql").replace("{table}", known_table(table))
    errors = set(error_rules)
    validator = GxValidator(table, rulebook)
    by_rule: dict[str, int] = {}
    validated: dict[str, int] = {}
    failing: dict[str, int] = {}
    for p in partitions:
        batch = con.execute(sql, {"p": p, "rows": int(sample_rows)}).df()
        if batch.empty:
            continue
        hits = validator.validate(batch)
        for rule, n in hits.groupby("rule_id").size().items():
            by_rule[rule] = by_rule.get(rule, 0) + int(n)
        validated[p] = len(batch)
        failing[p] = int(hits.loc[hits.rule_id.isin(errors), "row_ref"].nunique())
    return PartitionsResult(by_rule, validated, failing)
