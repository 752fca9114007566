-- Free the per-run work tables (calendar_days and the scope tables are kept for the connection).
DROP VIEW IF EXISTS ind_breakdown_member_records;
DROP TABLE IF EXISTS ind_complaint_records;
DROP TABLE IF EXISTS ind_sampling_records;
DROP TABLE IF EXISTS ind_profile_rows;
DROP TABLE IF EXISTS ind_unit_profiles;
DROP TABLE IF EXISTS ind_breakdown_members;
DROP TABLE IF EXISTS ind_breakdown_kept;
DROP TABLE IF EXISTS ind_breakdown_focus_keys;
