-- Sending limits per domain: what its accounts may send when they have no limits of their own
-- (null: the configuration's). An account's own limits, then its domain's, then the config.
alter table domains add column max_messages_per_hour integer check (max_messages_per_hour >= 0);
alter table domains add column max_recipients_per_day integer check (max_recipients_per_day >= 0);
