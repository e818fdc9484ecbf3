-- Status of IngestClient objects (issue 12): the operator mirrors each
-- client's `lastSignalAt` and `signalsPerMinute` (signals of the last 60 s)
-- into its status every few seconds. counter_signals is indexed by counter
-- only; without this index each read scanned every signal ever received.
create index counter_signals_client_received_idx on counter_signals (client_id, received_at);
