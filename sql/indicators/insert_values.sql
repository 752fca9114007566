-- Insert the computed rows of one (scope, period) from the frame registered as ind_values_frame.
INSERT INTO mart.indicator_values (scope, period, region_code, indicator_id, numerator, denominator, value,
                                   record_count, min_records, small_count, treatment, raw_value, scope_value,
                                   spec_version)
SELECT scope, period, region_code, indicator_id, numerator, denominator, value,
       record_count, min_records, small_count, treatment, raw_value, scope_value, spec_version
FROM ind_values_frame;
