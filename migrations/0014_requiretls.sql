-- RFC 8689: what a queued message asks of the TLS its delivery uses. true: REQUIRETLS was given
-- on MAIL FROM (verified TLS to a host that offers REQUIRETLS, or no delivery); false: the
-- message carries `TLS-Required: No` (the recipient domain's MTA-STS and DANE are waived);
-- null: neither, the domain's policies decide.
alter table queue_messages add column require_tls boolean;
