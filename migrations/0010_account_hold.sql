-- Outbound hold of an account (fumi user hold|unhold): while an account is held, the mail it
-- submits is still accepted and queued, but queued on hold (queue_messages.held_at), so that
-- nothing leaves until an administrator looks at it and releases it (fumi queue release). For
-- an account that is compromised or sends far more than it should: its users lose nothing,
-- and the domain's reputation is spared.
alter table accounts add column outbound_held_at timestamptz;
alter table accounts add column outbound_held_reason text;

-- The hold applies in the database, in the transaction that queues the message, so no code
-- path that queues mail (submission, alias forwards, a later one) can forget it.
--
-- No message slips past a hold: the trigger reads the account row FOR KEY SHARE, and a hold
-- (src/store/queue_admin.ts) takes the row FOR UPDATE, which conflicts with it, before it sets
-- the flag and holds the account's queued messages. A message queued while a hold is being
-- made waits for it and is then queued held (READ COMMITTED re-reads the locked row); a hold
-- made while a message is being queued waits for that message to commit and then holds it.
-- The row is selected by id alone: a condition on the hold column would be checked against the
-- old row version and skip the lock.
create function queue_messages_account_hold() returns trigger language plpgsql as $$
declare
  held timestamptz;
  reason text;
begin
  if new.held_at is null and new.account_id is not null then
    select a.outbound_held_at, a.outbound_held_reason into held, reason
      from accounts a where a.id = new.account_id for key share;
    if held is not null then
      new.held_at := now();
      new.held_reason := 'account held: ' || coalesce(reason, 'no reason given');
    end if;
  end if;
  return new;
end
$$;

create trigger queue_messages_account_hold before insert on queue_messages
  for each row execute function queue_messages_account_hold();
