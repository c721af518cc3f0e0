/**
 * The IMAP server (RFC 9051 IMAP4rev2 and RFC 3501 IMAP4rev1, chosen by ENABLE IMAP4rev2):
 * 143 with STARTTLS and 993 with implicit TLS, over the encrypted store, with push (IDLE).
 *
 * Invariants:
 * - A session reads whole commands through reader.ts (bounded line, literal, command size and
 *   time), parses them with src/imap/proto, and dispatches from one table (commands/mod.ts)
 *   whose allowed states are checked once, at dispatch.
 * - The selected mailbox's view (selected.ts) maps MSNs to UIDs per session and changes only
 *   through the untagged responses sent at the points RFC 9051 §7 allows; EXPUNGE never during
 *   FETCH, STORE or SEARCH.
 * - Responses are written before any read that would wait; a session never holds a store
 *   transaction while writing to a client (the store's calls are whole transactions).
 * - One error map (errors.ts): domain errors become NO with their code, anything unexpected
 *   `NO [SERVERBUG]` with a log line carrying the connection id.
 *
 * Security model:
 * - No password in clear: before TLS on 143 the server advertises LOGINDISABLED and no AUTH=
 *   mechanism and refuses LOGIN and AUTHENTICATE; loopback gets no exemption. STARTTLS
 *   discards whatever the client pipelined after it (src/net/connection.ts).
 * - Before authentication a literal is at most `maxLiteralBeforeAuth` octets, and a larger
 *   synchronising literal never gets a continuation request; a larger non-synchronising one
 *   ends the session.
 * - Sign-in goes through the shared Login (brute-force delay, bans) and SASL objects.
 * - Every store call carries the signed-in account's id: a mailbox name is only ever a name in
 *   that account, so "../bob" or another user's address is a mailbox that does not exist.
 *   Names with control characters are refused (BAD), never stored.
 * - Too many BAD commands end the session with BYE; an idle session ends after
 *   `idleTimeoutMs` (RFC 9051 §5.4), one that has not signed in after `preAuthTimeoutMs`.
 *
 * Standards:
 * | standard | status | where |
 * | --- | --- | --- |
 * | RFC 9051 IMAP4rev2, RFC 3501 IMAP4rev1 | yes, but no \Recent; subscriptions live on mailboxes, so DELETE drops one, which §6.3.7 forbids ("MUST NOT unilaterally remove") | session.ts, commands/ |
 * | RFC 7888 LITERAL+ / LITERAL- | yes (setting) | reader.ts |
 * | RFC 5161 ENABLE | IMAP4rev2, UTF8=ACCEPT, CONDSTORE, QRESYNC | commands/enable.ts |
 * | RFC 2177 IDLE | yes | commands/idle.ts |
 * | RFC 2971 ID | yes | commands/any.ts |
 * | RFC 4959 SASL-IR; AUTH=PLAIN, AUTH=SCRAM-SHA-256 | yes | commands/auth.ts |
 * | RFC 4315 UIDPLUS | APPENDUID, COPYUID, UID EXPUNGE | commands/append.ts, copy.ts, expunge.ts |
 * | RFC 6851 MOVE, RFC 3691 UNSELECT | yes | commands/copy.ts, select.ts |
 * | RFC 5258 LIST-EXTENDED, RFC 5819 LIST-STATUS, RFC 6154 SPECIAL-USE, RFC 3348 CHILDREN | yes: RECURSIVEMATCH with CHILDINFO; levels that are not mailboxes are \NonExistent (\Noselect to IMAP4rev1) for "%"; no REMOTE mailboxes | commands/list.ts |
 * | RFC 9051 §6.3.4–§6.3.6 hierarchy | CREATE and RENAME create superiors; DELETE keeps inferiors and leaves the name a level (§6.3.5's \Noselect choice) | commands/mailbox.ts, store/mailboxes.ts |
 * | RFC 7162 CONDSTORE, QRESYNC | yes | selected.ts, commands/select.ts, fetch.ts, store.ts |
 * | RFC 9208 QUOTA, QUOTA=RES-STORAGE | GETQUOTA, GETQUOTAROOT | commands/quota.ts |
 * | RFC 7889 APPENDLIMIT, RFC 8438 STATUS=SIZE | yes | commands/append.ts, _mailbox.ts |
 * | RFC 4731 ESEARCH, RFC 5182 SAVE | yes | commands/search.ts, search.ts |
 * | RFC 3516 BINARY, RFC 6855 UTF8=ACCEPT | FETCH, APPEND `~{n}`; names and strings in UTF-8 | fetch.ts |
 * | RFC 5256 SORT, THREAD=ORDEREDSUBJECT, THREAD=REFERENCES; RFC 5957 SORT=DISPLAY | yes; REFERENCES decrypts each message for its References header; no ESORT (RFC 5267) | commands/sort.ts, sort.ts, thread.ts |
 *
 * @module
 */

export type { ImapDeps } from "./deps.ts";
export { type ImapListenerOptions, startImapListener } from "./listener.ts";
export { ImapSession, type ImapState } from "./session.ts";
export { IMAP_DEFAULTS, type ImapSettings } from "./settings.ts";
export { UserConnections } from "./user_connections.ts";
export { MailboxViews } from "./views.ts";
export { imapStoreDeps, type ImapStoreDepsOptions } from "./wiring.ts";
