-- DMARC aggregate reports (RFC 7489 §7.2, src/dmarc/): what we evaluate for domains that ask
-- for reports, the reports we have sent (one claim per policy domain and day, so that several
-- Fumi processes on one database send each report once), and the reports others send us
-- about our own domains.

-- One row per message received on the MX whose From domain publishes rua=; deleted once
-- reported, or after 30 days.
create table dmarc_evaluations (
  id bigint generated always as identity primary key,
  day date not null,                 -- UTC day of receipt
  received_at timestamptz not null,
  header_from text not null,         -- the Author Domain, lowercased
  policy_domain text not null,       -- where the DMARC record was found
  source_ip text not null,
  p text not null,
  sp text not null,
  pct integer not null,
  adkim text not null,
  aspf text not null,
  disposition text not null check (disposition in ('none', 'quarantine', 'reject')),
  dkim_aligned text not null check (dkim_aligned in ('pass', 'fail')),
  spf_aligned text not null check (spf_aligned in ('pass', 'fail')),
  -- RFC 7489 Appendix C PolicyOverrideType, when the policy was not applied as published.
  override text,
  dkim jsonb not null,               -- [{domain, selector, result}]
  spf jsonb not null,                -- [{domain, scope, result}]
  rua text[] not null
);
create index dmarc_evaluations_domain_day on dmarc_evaluations (policy_domain, day);

-- A report claimed by one process: inserted before sending, so no other sends it again.
create table dmarc_report_claims (
  policy_domain text not null,
  day date not null,
  report_id text not null unique,
  claimed_at timestamptz not null,
  sent_at timestamptz,
  primary key (policy_domain, day)
);

-- Aggregate reports received for our domains, once per (reporter, report id).
create table dmarc_received_reports (
  id bigint generated always as identity primary key,
  org_name text not null,
  report_id text not null,
  email text not null,
  domain text not null,
  date_begin timestamptz not null,
  date_end timestamptz not null,
  policy jsonb not null,
  received_at timestamptz not null,
  unique (org_name, report_id)
);
create index dmarc_received_reports_domain on dmarc_received_reports (domain, date_end);

create table dmarc_received_rows (
  report bigint not null references dmarc_received_reports (id) on delete cascade,
  source_ip text not null,
  count bigint not null,
  disposition text not null,
  dkim text not null,                -- policy_evaluated: pass or fail
  spf text not null,
  header_from text not null,
  auth jsonb not null                -- {dkim: [{domain, selector, result}], spf: [...]}
);
create index dmarc_received_rows_report on dmarc_received_rows (report);
