-- An edition's record (reports.editions.edition_record): the data-quality rules in force, each with what
-- defines it (its digest is taken in Python) and its description in both languages.
SELECT rule_id, table_name, severity, dimension, basis, description_zh, description_en
FROM dq.rules
ORDER BY rule_id
