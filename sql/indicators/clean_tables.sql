-- The tables present in the clean schema (the indicator layer refuses to run without its inputs).
SELECT table_name FROM information_schema.tables WHERE table_schema = 'clean';
