/**
 * What a connection's reads and writes fail with besides the socket's own errors; sessions map
 * each to their protocol's reply.
 *
 * @module
 */

import { FumiError } from "../util/errors.ts";

/** A line longer than the limit of the read. */
export class LineTooLongError extends FumiError {
  constructor(readonly limit: number) {
    super(`Line longer than ${limit} octets`);
  }
}

/** The client was silent or too slow for the read's deadline. */
export class ReadTimeoutError extends FumiError {
  constructor() {
    super("Timed out waiting for the client");
  }
}

/** The client did not take our bytes within the write's deadline (it stopped reading). */
export class WriteTimeoutError extends FumiError {
  constructor() {
    super("Timed out writing to the client");
  }
}
