-- DKIM keys per domain (RFC 6376; Ed25519 per RFC 8463), src/store/dkim_keys.ts.
--
-- Each domain has at most one active key per algorithm; active keys sign outgoing mail. A
-- rotation makes new active keys and retires the old ones: retired keys no longer sign but
-- stay published (`fumi dkim show`), so that mail signed with them shortly before still
-- verifies, until an administrator removes them. A removed key keeps its row, without its
-- private key, so that its selector is never handed out again for the domain: a verifier
-- could otherwise find a cached old record under a new key's name.
--
-- The private key (PKCS#8) is sealed with the system data key; the additional data binds the
-- table, the column and the row id. The public key is as published in p= (RFC 6376 §3.6.1):
-- DER SubjectPublicKeyInfo for RSA, the raw 32-byte key for Ed25519 (RFC 8463 §4.2).
create table dkim_keys (
  id bigint generated always as identity primary key,
  domain_id bigint not null references domains (id) on delete cascade,
  -- A DNS label (RFC 6376 §3.1 allows dotted selectors; Fumi makes single labels).
  selector text not null check (selector ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'),
  algorithm text not null check (algorithm in ('rsa-sha256', 'ed25519-sha256')),
  private_key bytea, -- sealed; null once removed
  public_key bytea not null,
  state text not null default 'active' check (state in ('active', 'retired', 'removed')),
  created_at timestamptz not null default now(),
  retired_at timestamptz,
  removed_at timestamptz,
  unique (domain_id, selector),
  check ((state = 'removed') = (private_key is null)),
  check ((state = 'active') = (retired_at is null)),
  check ((state = 'removed') = (removed_at is not null))
);
create unique index dkim_keys_one_active on dkim_keys (domain_id, algorithm)
  where state = 'active';
