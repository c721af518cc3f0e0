-- Outbound spam control: recipients of an account's mail that remote servers refused for good
-- (a 5xx such as "no such user"), counted per hour across every Fumi process. A burst of them
-- is the mark of a stolen account mailing a harvested list.
create table refused_recipients (
  account_id bigint not null references accounts (id) on delete cascade,
  refused_at timestamptz not null default now(),
  recipients integer not null check (recipients > 0)
);
create index refused_recipients_account on refused_recipients (account_id, refused_at);
