-- Phone and ID numbers in one text masked, by staging's macro (sql/macros/codes.sql).
SELECT pii_mask_numbers($text)
