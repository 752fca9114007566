SELECT first_load, count(*) FROM _dups GROUP BY 1 ORDER BY 2 DESC, 1
