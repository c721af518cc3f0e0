/**
 * The end of DATA or BDAT: submission rules, trace fields, the data-stage filters, and the
 * durable hand-off. The 250 is sent only after `deps.accept` resolved, that is after the message
 * is committed for every accepted recipient (RFC 5321 §4.1.1.4, §6.1): a crash before it leaves
 * nothing half-delivered, a crash after it loses nothing.
 *
 * @module
 */

import {
  authenticationResults,
  authResultsFromTags,
  missingSubmissionHeaders,
  receivedHeader,
  stripForgedAuthResults,
  stripForgedSpamFields,
} from "../../../delivery/mod.ts";
import { getFields, type HeaderBlock, parseAddressList, parseHeader } from "../../../mime/mod.ts";
import { sealingResults } from "../../../mailauth/mod.ts";
import { tryParseAddress } from "../../../util/address.ts";
import { reply } from "../../proto/mod.ts";
import { SENDER_NOT_OWNED } from "../replies.ts";
import type { SmtpSession } from "../session.ts";
import type { AcceptedRecipient } from "../state.ts";
import { passFilter } from "./filtered.ts";

const encoder = new TextEncoder();

/** Completes the transaction with its received content. */
export async function finishMessage(session: SmtpSession, content: Uint8Array[]): Promise<void> {
  const { state, settings, connection, deps } = session;
  const transaction = state.transaction!;
  state.resetTransaction();
  if (connection.closed) {
    // Nobody would receive the 250, and the client would send the message again: not storing
    // it avoids the duplicate (RFC 1047).
    session.log.info("client left before the message was acknowledged");
    session.endTransaction("abandoned", { reason: "client left before the reply" });
    return;
  }
  let message = concat(content);
  const now = new Date();
  const loop = loopProblem(parseHeader(message), transaction.recipients);
  if (loop !== null) {
    session.log.info("mail loop refused", { reason: loop });
    await session.fail(reply(554, "5.4.6", `Mail loop detected (${loop})`));
    session.refuseTransaction("loop", { size: message.length });
    return;
  }
  if (state.account !== null) {
    const refusal = await checkFrom(session, message);
    if (refusal !== null) {
      await session.fail(refusal);
      session.refuseTransaction("from-not-owned", { size: message.length });
      return;
    }
    // RFC 6409 §8.2, §8.3: the submission server completes a message that lacks them.
    const added = missingSubmissionHeaders(message, { hostname: settings.hostname, now });
    if (added !== "") message = concat([encoder.encode(added), message]);
  }
  // RFC 8601 §5: a field claiming to come from us was not written by us; whoever sent it,
  // it must not reach a mailbox looking like our verdict.
  message = stripForgedAuthResults(message, settings.hostname);
  // Likewise a spam verdict that arrives with the message is the sender's, not ours (src/reputation
  // adds ours); the MX takes none from outside. Submission keeps a user's own fields.
  if (settings.role === "mx") message = stripForgedSpamFields(message);
  const header = message.subarray(0, parseHeader(message).bodyStart);
  const verdict = await passFilter(
    session,
    session.filterContext(
      "data",
      { message: { size: message.length, header, raw: message } },
      transaction, // already closed in the session's state (see above)
    ),
  );
  if (verdict === null) {
    session.refuseTransaction("filter", { size: message.length });
    return;
  }
  state.messages++;
  const id = `${connection.id}${state.messages.toString(36).padStart(3, "0")}`;
  const tags = authResultsFromTags(settings.hostname, verdict.headers);
  const trace = [
    receivedHeader({
      helo: state.helo,
      ip: connection.remote.address,
      hostname: settings.hostname,
      id,
      tls: connection.tls,
      esmtp: state.esmtp,
      smtputf8: transaction.params.smtputf8,
      authenticated: state.account !== null,
      authUser: settings.receivedAuthUser ? state.account?.address ?? null : null,
      recipients: transaction.recipients.map((r) => r.address),
      date: now,
    }),
    // RFC 8601: one field with our authserv-id, the mail-authentication check's (src/mailauth)
    // when it ran, else on the MX one saying `none`.
    ...(tags.field !== null
      ? [tags.field]
      : settings.role === "mx"
      ? [authenticationResults(settings.hostname)]
      : []),
    ...tags.others.map(([name, value]) => `${name}: ${value}\r\n`),
  ].join("");
  const raw = concat([encoder.encode(trace), message]);
  const held = state.account !== null && await deps.holdIfBurst(state.account);
  // Counted before it is stored: parallel sessions cannot all pass the check made at MAIL.
  const reservation = state.account === null
    ? null
    : await deps.reserveSending(state.account.id, transaction.recipients.length);
  if (reservation?.kind === "over") {
    session.log.warn("sending limit reached", {
      account: state.account!.address,
      limit: reservation.limit,
    });
    // A rate: temporary (RFC 3463 X.7.1), as at MAIL.
    session.send(
      reply(450, "4.7.1", `Sending limit reached: ${reservation.limit}; try again later`),
    );
    session.refuseTransaction("sending-limit", { size: message.length });
    return;
  }
  const result = await deps.accept({
    raw,
    sender: transaction.sender,
    recipients: transaction.recipients.map((r) => ({
      address: r.address,
      resolution: r.resolution,
      notify: r.params.notify,
      orcpt: r.params.orcpt,
    })),
    quarantine: verdict.quarantine,
    account: state.account ? { id: state.account.id, address: state.account.address } : null,
    envid: transaction.params.envid,
    ret: transaction.params.ret,
    requireTls: transaction.params.requireTls,
    // What the mail-authentication check found, for ARC seals of forwards (RFC 8617 §5.1).
    authentication: tags.field === null ? null : sealingResults(tags.field),
  }).catch(async (error) => {
    // Not stored: not sent either, as far as the limits go.
    if (reservation !== null) await deps.releaseSending(reservation).catch(() => {});
    throw error;
  });
  session.endTransaction("accepted", {
    id,
    size: raw.length,
    stored: result.delivered.map((d) => d.messageId),
    queue: result.queueId,
    ...(held && result.queueId !== null ? { held: true } : {}),
  });
  session.send(
    held && result.queueId !== null
      // The user is told at once; local recipients have it already (issue: held, not refused).
      ? reply(250, "2.0.0", `OK: queued as ${id}, but held for review: unusual sending volume`)
      : reply(250, "2.0.0", `OK: queued as ${id}`),
  );
}

/** More trace fields than this is a loop (RFC 5321 §6.3 suggests a large limit, at least 100). */
export const MAX_RECEIVED_FIELDS = 100;

/**
 * RFC 5321 §6.3: a message that went round too often, or that already carries a Delivered-To
 * for one of its recipients here, is looping; accepting it would keep it going.
 */
function loopProblem(block: HeaderBlock, recipients: readonly AcceptedRecipient[]): string | null {
  if (getFields(block, "Received").length > MAX_RECEIVED_FIELDS) return "too many hops";
  const delivered = new Set(
    getFields(block, "Delivered-To").map((v) => tryParseAddress(v.trim())?.canonical),
  );
  const looping = recipients.some((r) =>
    r.address !== "postmaster" && delivered.has(r.address.canonical)
  );
  return looping ? "already delivered here" : null;
}

/** Looks like a mailbox anywhere in a field: what a lenient reader could take for an address. */
const ADDRESS_LIKE = /[^\s<>()\[\],;:"@]+@[^\s<>()\[\],;:"@]+/g;

/**
 * Submission: every address in From:, Sender: and Resent-From: must be one the user owns, as
 * the envelope sender must (issue 4; RFC 6409 §8.1 lets the server enforce it). Checked on
 * everything that looks like an address, display names and comments included, not only on
 * what a strict parser extracts: mail readers differ, and `From: <alice@x> bob@x` must not
 * show bob to some of them. A message without From is refused.
 */
async function checkFrom(session: SmtpSession, message: Uint8Array) {
  const account = session.state.account!;
  const block = parseHeader(message);
  const from = getFields(block, "From");
  if (from.flatMap((value) => parseAddressList(value)).every((i) => i.host === null)) {
    return reply(550, "5.6.0", "Message has no From: field");
  }
  const fields = [...from, ...getFields(block, "Sender"), ...getFields(block, "Resent-From")];
  for (const candidate of fields.flatMap((value) => value.match(ADDRESS_LIKE) ?? [])) {
    const address = tryParseAddress(candidate);
    if (address === null || !(await session.deps.ownsSender(account.id, address))) {
      session.log.info("From: not owned", { account: account.address });
      return SENDER_NOT_OWNED;
    }
  }
  return null;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
