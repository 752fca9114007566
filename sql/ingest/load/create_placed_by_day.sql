-- _placed: the batch with its partition (month of the record's day), or NULL and _place_reason when
-- it has none. The day is parsed once per record (_day); the month key is derived from it. The first
-- day and today are date literals (a view takes no parameters): records before the first monthly
-- partition or after today (Beijing time) get no partition.
CREATE OR REPLACE TEMP VIEW _placed AS
    SELECT * EXCLUDE (_pk, _early, _future, _day),
           CASE WHEN _early OR _future THEN NULL ELSE _pk END AS partition_key,
           CASE WHEN _pk IS NULL AND cei_text("{month_column}") IS NULL THEN 'required field {month_column} is empty'
                WHEN _pk IS NULL THEN 'cannot parse {month_column} ''' || substr(pii_mask_numbers("{month_column}"), 1, 60)
                                      || ''' (needed to place the record in its period)'
                WHEN _early THEN '{month_column} ''' || substr(pii_mask_numbers("{month_column}"), 1, 40) || ''' is before the first monthly partition {first_month} (records start with the 12315 platform in 2019)'
                WHEN _future THEN '{month_column} ''' || substr(pii_mask_numbers("{month_column}"), 1, 40)
                                  || ''' is in the future (after {today}, Beijing time)'
           END AS _place_reason
    FROM (SELECT *, strftime(_day, '%Y-%m') AS _pk, coalesce(_day < DATE '{first_day}', FALSE) AS _early,
                 coalesce(_day > DATE '{today}', FALSE) AS _future FROM (SELECT *, {day} AS _day FROM _batch))
