-- Outbound delivery: what the queue's workers and administrators need beside 0005's tables.

-- A message on hold is not sent until released (fumi queue hold|release, and the burst hold
-- of an account that suddenly sends far more than it used to).
alter table queue_messages add column held_at timestamptz;
alter table queue_messages add column held_reason text;

-- A worker leases the recipients it is sending to: another worker (or another Fumi process on
-- the same database) skips them until the lease ends, so nothing is sent twice, and a worker
-- that dies mid-delivery gives its recipients back when the lease runs out.
alter table queue_recipients add column leased_until timestamptz;
-- What the last attempt learnt, for `fumi queue show` and the DSN (RFC 3464 §2.3.5
-- Remote-MTA, §2.3.6 Diagnostic-Code): the host that answered and its reply.
alter table queue_recipients add column remote_host text;
alter table queue_recipients add column last_attempt_at timestamptz;
-- When the recipient reached its final state (delivered or failed).
alter table queue_recipients add column finished_at timestamptz;
-- When the sender was told (a failure DSN, or a delay warning), so it is told once.
alter table queue_recipients add column failure_notified_at timestamptz;
alter table queue_recipients add column delay_notified_at timestamptz;

-- The workers' question, now: which recipients are due and not leased?
drop index queue_recipients_due;
create index queue_recipients_due on queue_recipients (next_attempt_at)
  where status = 'queued';
