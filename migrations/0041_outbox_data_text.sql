-- The relay's drain rate (issue 11: at least 0.6 of a raw publish of the
-- same messages). Profiled on a quiet machine, PostgreSQL's share of a
-- relayed message was mostly jsonb's output function: the relay reads
-- `data` as text for every message, and `(payload->'data')::text` rebuilt
-- that text from the binary tree at every read (pgbench, 500 rows per
-- fetch: 2.8 ms, 1.75 ms with the text stored). The text is now made once,
-- when the row is written, in the same statement (a stored generated
-- column: no trigger), and the relay reads it as it is.
--
-- Fillfactor back to 100: migration 0034 left half of every page empty
-- for the mark's new row versions, but the relay now deletes at the ack
-- by default (RELAY_RETENTION_SECONDS=0), and the half-empty pages doubled
-- the table that every fetch walks and every vacuum of the deleted rows
-- scans (50,000 rows: 78 MB against 36 MB, vacuum 72-80 ms against
-- 36-39 ms). Only pages written from now on are affected.
alter table outbox set (fillfactor = 100);
alter table outbox
    add column data_text text generated always as ((payload -> 'data')::text) stored;
