-- mask_numbers.sql for a list of texts in one query ('' for an empty or missing text).
SELECT list_transform($texts, lambda x: coalesce(pii_mask_numbers(x), ''))
