-- Data cut-off of the sampling results when the caller gives none: the day of the latest event
-- (sampling, notice, stop of sale, correction, re-inspection) in clean.sampling_results.
SELECT greatest(max(sampled_on), max(notified_on), max(stop_sale_on), max(corrected_on), max(reinspected_on)) AS as_of
FROM clean.sampling_results;
