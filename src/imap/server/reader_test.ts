import { createServer, type Socket } from "node:net";
import { assertEquals } from "../../../tests/assert.ts";
import { Connection } from "../../net/connection.ts";
import { readCommand, type ReadLimits, type ReadResult } from "./reader.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

const LIMITS: ReadLimits = {
  maxLineLength: 100,
  maxLiteral: 50,
  extension: "LITERAL+",
  timeoutMs: 5000,
};

/**
 * Sends `pieces` one write at a time (waiting for a continuation before a piece marked
 * "await+") and reads one command with `limits`; returns the result and what the server wrote.
 */
async function read(
  pieces: readonly string[],
  limits: ReadLimits = LIMITS,
): Promise<{ result: ReadResult; continuations: number }> {
  let accepted: (socket: Socket) => void = () => {};
  const got = new Promise<Socket>((resolve) => accepted = resolve);
  const server = createServer((socket) => accepted(socket));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  const client = await Deno.connect({ hostname: "127.0.0.1", port });
  const connection = new Connection(await got);
  let continuations = 0;
  // One deferred per continuation, created up front: the invitation may come before the
  // writer reaches its WAIT.
  const invite: (() => void)[] = [];
  const invitations = pieces.map(() => new Promise<void>((resolve) => invite.push(resolve)));
  const ready = async () => {
    await connection.write("+ Ready\r\n");
    invite[continuations++]!();
  };
  const writer = (async () => {
    let waited = 0;
    for (const piece of pieces) {
      if (piece === "WAIT") {
        await invitations[waited++];
        continue;
      }
      await client.write(encoder.encode(piece));
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  })();
  try {
    const result = await readCommand(connection, limits, ready);
    await writer;
    return { result, continuations };
  } finally {
    connection.close();
    client.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

function text(result: ReadResult): string {
  return result.kind === "command" ? decoder.decode(result.bytes) : JSON.stringify(result);
}

Deno.test("reader: a command split at awkward places, with a synchronising literal", async () => {
  const { result, continuations } = await read([
    "a1 LOG",
    "IN {5}\r",
    "\n",
    "WAIT",
    "al",
    'ice "pw',
    '"\r\n',
  ]);
  assertEquals(text(result), 'a1 LOGIN {5}\r\nalice "pw"\r\n');
  assertEquals(continuations, 1);
});

Deno.test("reader: LITERAL+ takes {n+} without a continuation", async () => {
  const { result, continuations } = await read(["a1 LOGIN {5+}\r\nalice {2+}\r\npw\r\n"]);
  assertEquals(text(result), "a1 LOGIN {5+}\r\nalice {2+}\r\npw\r\n");
  assertEquals(continuations, 0);
});

Deno.test("reader: a literal beyond the limit is refused without a continuation", async () => {
  const sync = await read(["a1 LOGIN {51}\r\n"]);
  assertEquals(sync.result, {
    kind: "refused",
    tag: "a1",
    close: false,
    text: "Literal too large",
  });
  assertEquals(sync.continuations, 0);
  const plus = await read(["a2 LOGIN {51+}\r\n"]);
  assertEquals(plus.result.kind === "refused" && plus.result.close, true);
});

Deno.test("reader: under LITERAL-, a non-synchronising literal above 4096 octets ends the session", async () => {
  const limits = { ...LIMITS, maxLiteral: 10_000, extension: "LITERAL-" } as const;
  const { result } = await read(["a1 APPEND INBOX {4097+}\r\n"], limits);
  assertEquals(result, {
    kind: "refused",
    tag: "a1",
    close: true,
    text: "Non-synchronising literal too large",
  });
  const small = await read(["a1 LOGIN {1-}\r\na b\r\n"], limits);
  assertEquals(text(small.result), "a1 LOGIN {1-}\r\na b\r\n");
});

Deno.test("reader: many literals cannot add up beyond one literal and one line", async () => {
  const pieces: string[] = [
    "a1 X {45}\r\n",
    "WAIT",
    "x".repeat(45) + " {45}\r\n",
    "WAIT",
    "y".repeat(45) + " {45}\r\n",
  ];
  const { result, continuations } = await read(pieces);
  assertEquals(result.kind, "refused");
  assertEquals(continuations, 2);
});
