/**
 * One query to one name server, over UDP (node:dgram) or TCP (node:net), with a deadline.
 *
 * Against off-path spoofing (RFC 5452 §9.2): every UDP query uses a fresh socket, so a random
 * source port chosen by the kernel, and a random 16-bit ID; a datagram counts only when it
 * comes from the server's address and port and carries our ID and our question. Anything else
 * is dropped and the wait goes on until the deadline.
 *
 * @module
 */

import dgram from "node:dgram";
import net from "node:net";
import type { Buffer } from "node:buffer";
import {
  answersQuery,
  decodeResponse,
  encodeQuery,
  MalformedResponseError,
  type QueryOptions,
  type Question,
  type Response,
} from "./message.ts";

/** A name server: an IP address and a port. */
export interface NameServer {
  readonly address: string;
  readonly port: number;
}

/** Why an exchange with a server failed. */
export class ExchangeError extends Error {}

/** A random query ID (RFC 5452 §4.3). */
export function randomId(): number {
  return crypto.getRandomValues(new Uint16Array(1))[0]!;
}

/** Sends one query over UDP and waits for its answer until `timeoutMs`. */
export function queryUdp(
  server: NameServer,
  question: Question,
  options: QueryOptions & { readonly timeoutMs: number; readonly id?: number },
): Promise<Response> {
  const id = options.id ?? randomId();
  const query = encodeQuery(id, question, options);
  const socket = dgram.createSocket(net.isIPv6(server.address) ? "udp6" : "udp4");
  return new Promise<Response>((resolve, reject) => {
    let done = false;
    const finish = (outcome: () => void) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.removeAllListeners("message");
      socket.close(outcome);
    };
    const timer = setTimeout(
      () =>
        finish(() =>
          reject(
            new ExchangeError(`No answer from ${describe(server)} within ${options.timeoutMs} ms`),
          )
        ),
      options.timeoutMs,
    );
    socket.on(
      "error",
      (error) =>
        finish(() => reject(new ExchangeError(`UDP to ${describe(server)}: ${error.message}`))),
    );
    socket.on("message", (message: Buffer, from: dgram.RemoteInfo) => {
      if (from.port !== server.port || !sameAddress(from.address, server.address)) return;
      let response: Response;
      try {
        response = decodeResponse(new Uint8Array(message));
      } catch (error) {
        if (error instanceof MalformedResponseError) return; // not ours, or garbage: keep waiting
        throw error;
      }
      if (!answersQuery(response, id, question)) return;
      finish(() => resolve(response));
    });
    // Bound to port 0: a new random source port for this query alone.
    socket.bind(0, () => {
      if (!done) socket.send(query, server.port, server.address);
    });
  });
}

/** Sends one query over TCP (RFC 7766) and waits for its answer until `timeoutMs`. */
export function queryTcp(
  server: NameServer,
  question: Question,
  options: QueryOptions & { readonly timeoutMs: number; readonly id?: number },
): Promise<Response> {
  const id = options.id ?? randomId();
  const query = encodeQuery(id, question, { ...options, udpPayloadSize: 65535 });
  const framed = new Uint8Array(query.length + 2);
  new DataView(framed.buffer).setUint16(0, query.length); // RFC 1035 §4.2.2 length prefix
  framed.set(query, 2);
  return new Promise<Response>((resolve, reject) => {
    let done = false;
    let buffered = new Uint8Array(0);
    const socket = net.connect({ host: server.address, port: server.port });
    const finish = (outcome: () => void) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.removeAllListeners("data");
      socket.destroy();
      outcome();
    };
    const fail = (why: string) =>
      finish(() => reject(new ExchangeError(`TCP to ${describe(server)}: ${why}`)));
    const timer = setTimeout(
      () => fail(`no answer within ${options.timeoutMs} ms`),
      options.timeoutMs,
    );
    socket.on("connect", () => socket.write(framed));
    socket.on("error", (error) => fail(error.message));
    socket.on("close", () => fail("connection closed before the answer"));
    socket.on("data", (chunk: Buffer) => {
      const joined = new Uint8Array(buffered.length + chunk.length);
      joined.set(buffered);
      joined.set(chunk, buffered.length);
      buffered = joined;
      if (buffered.length < 2) return;
      const length = new DataView(buffered.buffer).getUint16(0);
      if (buffered.length < length + 2) return;
      let response: Response;
      try {
        response = decodeResponse(buffered.subarray(2, length + 2));
      } catch (error) {
        if (error instanceof MalformedResponseError) return fail(error.message);
        throw error;
      }
      // Over TCP no one else can answer; a mismatch means a broken server (RFC 7766 §7).
      if (!answersQuery(response, id, question)) return fail("the answer is not to our question");
      finish(() => resolve(response));
    });
  });
}

function sameAddress(a: string, b: string): boolean {
  const strip = (s: string) => s.replace(/^::ffff:/i, "").replace(/%.*$/, "").toLowerCase();
  return strip(a) === strip(b);
}

function describe(server: NameServer): string {
  return net.isIPv6(server.address)
    ? `[${server.address}]:${server.port}`
    : `${server.address}:${server.port}`;
}
