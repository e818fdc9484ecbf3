-- Lets the single-statement claim (api-server/src/claim/transaction.rs) undo
-- itself: the claim row and the counters are written by data-modifying CTEs
-- of one autocommit statement, and when the stock update (done last, see
-- DESIGN.md "Claim transaction") finds nothing left, raising an error is the
-- only way for one statement to roll back what its earlier CTEs wrote.
-- Plain SQL functions cannot raise, hence plpgsql.
create function liveops_claim_abort(reason text) returns boolean
    language plpgsql volatile
as $$
begin
    -- SQLSTATE LC001 is ours; the API matches on it and reads the reason
    -- (e.g. SOLD_OUT) from the message.
    raise exception using errcode = 'LC001', message = reason;
end
$$;
