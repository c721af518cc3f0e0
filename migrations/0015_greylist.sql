-- Greylisting (RFC 6647): triplets seen, and client networks allow-listed after a retry.
create table greylist_triplets (
  client text not null,        -- IPv4 /24 or IPv6 /64, as CIDR text
  sender text not null,        -- envelope sender, canonical; '' for <>
  recipient text not null,     -- canonical
  first_seen timestamptz not null,
  expires_at timestamptz not null,
  primary key (client, sender, recipient)
);
create index greylist_triplets_expires on greylist_triplets (expires_at);

create table greylist_clients (
  client text primary key,     -- allow-listed network (RFC 6647 §2.2)
  expires_at timestamptz not null
);
create index greylist_clients_expires on greylist_clients (expires_at);
