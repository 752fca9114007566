SELECT nextval('raw.load_id_seq')
