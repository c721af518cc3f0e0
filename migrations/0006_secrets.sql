-- Secrets the server keeps for itself, the same on every node and across restarts (e.g. the
-- key that makes SCRAM's stand-in salts for unknown accounts stable). Sealed with the system
-- data key; the additional data binds the table, the column and the secret's name.
create table server_secrets (
  name text primary key check (name ~ '^[a-z][a-z0-9-]*$'),
  value bytea not null, -- sealed
  created_at timestamptz not null default now()
);
