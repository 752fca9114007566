SELECT count(*) FROM _staging_source
