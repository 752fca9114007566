-- Each record's partition, worked out once (parsing a million dates costs): the counts, the
-- partition list and the placing rejects read _placement; only the raw insert reads _placed.
CREATE OR REPLACE TEMP TABLE _placement AS SELECT _row, partition_key, _place_reason FROM _placed
