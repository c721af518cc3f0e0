-- A second factor for accounts (TOTP, RFC 6238), and app passwords for mail clients: with the
-- second factor on, IMAP and SMTP accept only app passwords (src/auth/login.ts).

-- The TOTP secret, sealed with the account's data key, the additional data binding the table,
-- the column and the account id (src/store/two_factor.ts). Null: no second factor. Set but not
-- confirmed: enrolment begun, not yet in force (the second factor is on only once a code from
-- the authenticator has been accepted). totp_last_step is the last time step whose code was
-- accepted, so that no code is accepted twice (RFC 6238 §5.2).
alter table accounts add column totp_secret bytea; -- sealed
alter table accounts add column totp_confirmed_at timestamptz;
alter table accounts add column totp_last_step bigint;
alter table accounts add constraint accounts_totp_confirmed_has_secret
  check (totp_confirmed_at is null or totp_secret is not null);

-- App passwords: random tokens the server makes for one mail client each, named by the user,
-- limited to the protocols in scopes, shown once and then kept only as a hash.
--
-- Why SHA-256 and not Argon2id: a slow, salted hash protects passwords people choose, which are
-- guessable; an app password is 28 random letters drawn by the server (about 131 bits), so no
-- guessing can invert its SHA-256, and the hash must be deterministic for sign-in to find the
-- row with one indexed query. Argon2id would add ~60 ms to every IMAP connection — exactly the
-- cost app passwords exist to spare reconnecting clients — and protect nothing more.
create table app_passwords (
  id bigint generated always as identity primary key,
  account_id bigint not null references accounts (id) on delete cascade,
  name text not null check (length(name) between 1 and 64),
  scopes text[] not null
    check (cardinality(scopes) > 0 and scopes <@ array['imap', 'smtp']::text[]),
  password_sha256 bytea not null check (length(password_sha256) = 32),
  created_at timestamptz not null default now(),
  last_used_at timestamptz,
  unique (account_id, name)
);
create index app_passwords_lookup on app_passwords (account_id, password_sha256);
