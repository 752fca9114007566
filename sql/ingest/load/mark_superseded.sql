UPDATE raw.load_log SET status = 'replaced', superseded_by = $load_id,
       message = 'replaced by load ' || $load_id || ' (' || $name || ')'
WHERE load_id IN (SELECT unnest($gone::BIGINT[]))
