UPDATE raw.load_log SET declared_period = $period WHERE load_id = $load_id
