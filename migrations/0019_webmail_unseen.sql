-- The webmail's folder list shows unread counts on every page (src/web/mail_pages.ts): this
-- partial index holds only unseen entries, so counting them reads as many index entries as
-- there are unread messages, not every message of the mailbox.
create index mailbox_messages_unseen on mailbox_messages (mailbox_id)
  where not ('\Seen' = any (flags));
