-- _placed for region profiles: the partition is a year; only the future is out of range (this
-- year and today are literals: a view takes no parameters).
CREATE OR REPLACE TEMP VIEW _placed AS
    SELECT * EXCLUDE (_pk, _early, _future),
           CASE WHEN _early OR _future THEN NULL ELSE _pk END AS partition_key,
           CASE WHEN _pk IS NULL AND cei_text("{month_column}") IS NULL THEN 'required field {month_column} is empty'
                WHEN _pk IS NULL THEN 'cannot parse {month_column} ''' || substr(pii_mask_numbers("{month_column}"), 1, 60)
                                      || ''' (needed to place the record in its period)'
                WHEN _early THEN NULL
                WHEN _future THEN '{month_column} ''' || substr(pii_mask_numbers("{month_column}"), 1, 40)
                                  || ''' is in the future (after {today}, Beijing time)'
           END AS _place_reason
    FROM (SELECT *, cei_partition_key('{table}', "{month_column}") AS _pk, FALSE AS _early,
                 coalesce(TRY_CAST(cei_partition_key('{table}', "{month_column}") AS INTEGER) > {year}, FALSE) AS _future
          FROM _batch)
