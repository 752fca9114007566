-- Reference tables joined by the indicator SQL, copied from frames that indicators/compute.py
-- registers (no value of a scope or period is ever written into SQL text):
--   calendar_days(day, is_workday, workday_ordinal, day_ordinal)
--       reference.calendar.WorkdayCalendar.default().as_frame() (2004-01-01 .. 2035-12-31, 调休
--       make-up days included). workday_ordinal = working days from the epoch up to and including
--       day, so "working days from a to b" = ordinal(b) - ordinal(a) (the day of a not counted);
--       day_ordinal = plain days from the epoch, so calendar-day differences need no dialect-
--       specific date function either.
--   ind_scope_units(unit_code, unit_name, unit_level)   the units the scope ranks
--   ind_region_units(region_code, unit_code)            any GB/T 2260 code of the scope -> its unit
--   ind_key_categories(category, object_type, key_category, key_group)
--       reference.categories.key_categories(): the five key categories of 工商消字〔2013〕133号 per
--       12315 / sampling category (rows outside the key areas left out)
-- (On Spark: CREATE OR REPLACE TEMP VIEW ... over the same frames.)
CREATE OR REPLACE TEMP TABLE calendar_days AS
SELECT CAST(day AS DATE) AS day,
       CAST(is_workday AS BOOLEAN) AS is_workday,
       CAST(workday_ordinal AS BIGINT) AS workday_ordinal,
       CAST(day_ordinal AS BIGINT) AS day_ordinal
FROM ind_calendar_frame;

CREATE OR REPLACE TEMP TABLE ind_scope_units AS
SELECT CAST(unit_code AS VARCHAR) AS unit_code,
       CAST(unit_name AS VARCHAR) AS unit_name,
       CAST(unit_level AS VARCHAR) AS unit_level
FROM ind_scope_units_frame;

CREATE OR REPLACE TEMP TABLE ind_key_categories AS
SELECT CAST(category AS VARCHAR) AS category,
       CAST(object_type AS VARCHAR) AS object_type,
       CAST(key_category AS VARCHAR) AS key_category,
       CAST(key_group AS VARCHAR) AS key_group
FROM ind_key_categories_frame
WHERE key_category <> '';

CREATE OR REPLACE TEMP TABLE ind_region_units AS
SELECT CAST(region_code AS VARCHAR) AS region_code,
       CAST(unit_code AS VARCHAR) AS unit_code
FROM ind_region_units_frame;
