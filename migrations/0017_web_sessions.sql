-- Webmail sessions (src/web/sessions.ts): server-side, so any one can be revoked at once.
-- The cookie carries a random 256-bit id; only its SHA-256 is stored, so a copy of this table
-- cannot be replayed as cookies. The CSRF token is per session and stored in clear: it is no
-- secret from the session's own pages, and useless without the cookie.
create table web_sessions (
  id bigint generated always as identity primary key,
  id_sha256 bytea not null unique check (length(id_sha256) = 32),
  account_id bigint not null references accounts (id) on delete cascade,
  -- 'second-factor': the password was right, a TOTP code is due; 'full': signed in.
  stage text not null check (stage in ('second-factor', 'full')),
  code_attempts integer not null default 0,
  csrf_token text not null,
  ip text not null,
  user_agent text not null default '',
  created_at timestamptz not null default now(),
  last_used_at timestamptz not null default now(),
  revoked_at timestamptz
);
create index web_sessions_account on web_sessions (account_id) where revoked_at is null;
