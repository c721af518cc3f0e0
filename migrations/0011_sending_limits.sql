-- Sending limits of submission: what each account sent, to count messages per hour and
-- recipients per day across every Fumi process on the database, and each account's own limits
-- where they differ from the configured ones (null: the configuration's).
create table sent_messages (
  account_id bigint not null references accounts (id) on delete cascade,
  sent_at timestamptz not null default now(),
  recipients integer not null check (recipients > 0)
);
create index sent_messages_account on sent_messages (account_id, sent_at);

alter table accounts add column max_messages_per_hour integer check (max_messages_per_hour >= 0);
alter table accounts add column max_recipients_per_day integer check (max_recipients_per_day >= 0);
