-- The relay marks every outbox row once (`published_at`), and since that
-- column is indexed the update is never HOT: the row's new version must
-- be written somewhere. With pages left half empty at insert, the new
-- version fits on the row's own page, so PostgreSQL logs only the changed
-- bytes (prefix/suffix compression of same-page updates) instead of the
-- whole ~700-byte row and finds room without extending the table. Measured
-- on 50,000 rows marked 500 per statement: ~25% less time per mark. Only
-- pages written from now on are affected.
alter table outbox set (fillfactor = 50);
