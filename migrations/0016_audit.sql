-- The audit log (src/store/audit.ts): every administrative and security change, who made it,
-- from where. Append-only and tamper-evident:
-- - Rows are numbered without gaps (seq) and each carries the SHA-256 of its canonical content
--   and of the previous row's hash (prev_hash): editing a row breaks its own hash, deleting one
--   breaks the chain at the next row. `fumi audit verify` walks the chain.
-- - Appends are serialised with an advisory lock, so the chain stays linear when several Fumi
--   processes write at once.
-- - Triggers refuse UPDATE, DELETE and TRUNCATE for every role, owner included. Someone with
--   superuser rights can still bypass them; the chain is what makes that visible.
create table audit_log (
  seq bigint primary key check (seq >= 1),
  at timestamptz not null,
  -- The OS user for the CLI, the account address for IMAP and the web, "system" for automatic
  -- actions (an automatic ban, an outbound hold).
  actor text not null,
  -- A dotted name: account.add, ban.remove, dkim.rotate, queue.hold, …
  action text not null,
  target text not null,
  -- JSON object with what changed; never secrets (the writer redacts secret-looking keys).
  details jsonb not null default '{}',
  -- "cli", a client IP address, or "system".
  source text not null,
  prev_hash text not null,
  hash text not null unique
);
create index audit_log_at on audit_log (at);

create function audit_log_append_only() returns trigger language plpgsql as $$
begin
  raise exception 'audit_log is append-only: % refused', tg_op;
end
$$;
create trigger audit_log_no_update before update or delete on audit_log
  for each row execute function audit_log_append_only();
create trigger audit_log_no_truncate before truncate on audit_log
  for each statement execute function audit_log_append_only();

-- The last errors the servers logged, for `fumi status` (src/store/status.ts): a small ring,
-- trimmed to the newest few hundred on each write; one row per error line, its fields already
-- redacted by the logger's rules.
create table error_events (
  id bigint generated always as identity primary key,
  at timestamptz not null,
  node text not null,
  message text not null,
  fields jsonb not null default '{}'
);
create index error_events_at on error_events (at);
