/**
 * The SMTP server (RFC 5321 with the ESMTP extensions listed in src/smtp/proto/mod.ts): inbound
 * MX on port 25 and authenticated submission on 587 (STARTTLS) and 465 (implicit TLS).
 *
 * Security model:
 * - Never an open relay: a recipient outside the hosted domains is accepted only from a
 *   signed-in user, and only submission listeners let users sign in, only under TLS (RFC 3207
 *   §4, RFC 8314). Loopback gets no exemption.
 * - No backscatter: recipients are resolved at RCPT time; an unknown user is refused there.
 * - No smuggling: message content is framed strictly (src/smtp/proto/data_receiver.ts), and a
 *   bare LF or CR ends the session.
 * - A 250 after the content means durable: the reply is written only after the message is
 *   committed for every recipient (src/delivery).
 * - Every read is bounded (line length, message size, recipients, errors, time), and one
 *   session's failure never reaches another.
 *
 * @module
 */

export type { SmtpDeps } from "./deps.ts";
export { type SmtpListenerOptions, startSmtpListener } from "./listener.ts";
export { SmtpSession } from "./session.ts";
export { SMTP_DEFAULTS, type SmtpRole, type SmtpSettings } from "./settings.ts";
export { builtinChecks, storeDeps, type StoreDepsOptions } from "./wiring.ts";
