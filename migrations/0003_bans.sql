-- Brute-force defence (src/auth/bans.ts): failed and successful sign-ins, and bans. They live in
-- tables so that every node counts the same failures, sees the same bans, and a restart forgets
-- nothing.
--
-- A client is counted as its "ip key": the IPv4 address itself, or the /64 of an IPv6 address
-- (src/net/cidr.ts ipKey), and that is also what an automatic ban covers.

-- Every failed sign-in. The account is the address as typed, lower-cased (its canonical form
-- when it parses), whether or not such an account exists. "excused" marks a failure for an
-- account that signed in successfully from the same ip key lately: it slows, never bans.
create table auth_failures (
  id bigint generated always as identity primary key,
  at timestamptz not null,
  protocol text not null,
  ip inet not null,
  ip_key text not null,
  account text not null,
  reason text not null,
  excused boolean not null default false
);
create index auth_failures_ip_key on auth_failures (ip_key, at);
create index auth_failures_account on auth_failures (account, at);
create index auth_failures_at on auth_failures (at);

-- The last successful sign-in of each account from each ip key.
create table auth_successes (
  account_id bigint not null references accounts (id) on delete cascade,
  ip_key text not null,
  last_at timestamptz not null,
  primary key (account_id, ip_key)
);
create index auth_successes_last_at on auth_successes (last_at);

-- Bans: one row per network (an address is a /32 or /128). details holds the failures that
-- caused an automatic ban (JSON array of {at, protocol, ip, account, reason}), so every ban can
-- be explained; reason sums them up in a line. expires_at null: until removed.
create table bans (
  id bigint generated always as identity primary key,
  network cidr not null unique,
  reason text not null,
  details jsonb not null default '[]',
  created_at timestamptz not null default now(),
  expires_at timestamptz,
  created_by text not null check (created_by in ('auto', 'admin'))
);
-- "Is this address banned?" is asked on every connection: containment (>>=) through GiST.
create index bans_network_gist on bans using gist (network inet_ops);
create index bans_expires_at on bans (expires_at) where expires_at is not null;
