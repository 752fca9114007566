-- The provinces and prefectures the gated 12315 records come from: the default index scope when a
-- run names none (pipelines/index_guards.py scope_from_regions). A province-level code (320000, a
-- provincial hotline centre) names no prefecture.
SELECT DISTINCT
       substr(handling_region_code, 1, 2) AS province,
       CASE WHEN substr(handling_region_code, 3, 2) <> '00' THEN substr(handling_region_code, 1, 4) END AS prefecture
FROM clean.complaints
WHERE handling_region_code IS NOT NULL
ORDER BY 1, 2
