/**
 * The outbound SMTP client: one session to one server (client.ts). The queue's workers open a
 * connection (src/net/connection.ts `connectTo`), hand it to {@link SmtpClient.open} and send
 * messages over it.
 *
 * @module
 */

export {
  AuthFailedError,
  type ClientOptions,
  type ClientTimeouts,
  ConnectionLostError,
  dotStuff,
  type OutboundMessage,
  type OutboundRecipient,
  type Outcome,
  outcomeOf,
  type RecipientResult,
  RFC_TIMEOUTS,
  SessionRefusedError,
  SmtpClient,
  type TlsMode,
  TlsRequiredError,
} from "./client.ts";
