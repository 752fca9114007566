-- Good records kept file order (rowid). With rejects, put their record numbers back between
-- them: good record k sits after every reject with fewer than k good records before it.
CREATE OR REPLACE TEMP VIEW _csv_numbered AS
               -- consecutive rejects share good_before: the last of them (max n) counts, or an ASOF
               -- match on a tie could take an earlier one and number the next good record as a reject
               WITH rej AS (SELECT good_before, max(n) AS n FROM (
                                SELECT _row - row_number() OVER (ORDER BY _row) AS good_before,
                                       row_number() OVER (ORDER BY _row) AS n FROM _read_rejects) GROUP BY good_before),
                    good AS (SELECT *, rowid + 1 AS _k FROM _csv)
               SELECT good.* EXCLUDE (_k), good._k + coalesce(rej.n, 0) AS _row
               FROM good ASOF LEFT JOIN rej ON good._k > rej.good_before
