/**
 * node:http to Fetch glue without a network: a request whose socket does not know its peer is
 * not handed to the app (which needs a real address for its brute-force defence).
 */

import { IncomingMessage, ServerResponse } from "node:http";
import { Socket } from "node:net";
import { assertEquals } from "../../tests/assert.ts";
import { nodeListener } from "./node_fetch.ts";

Deno.test("a request on a socket without a peer address is dropped, not served with ip ''", async () => {
  const socket = new Socket(); // never connected: remoteAddress is undefined
  const req = new IncomingMessage(socket);
  req.method = "GET";
  req.url = "/login";
  req.headers = { host: "mail.example.org" };
  req.rawHeaders = ["Host", "mail.example.org"];
  const res = new ServerResponse(req);
  const seen: string[] = [];
  const errors: unknown[] = [];
  const listener = nodeListener(
    (_request, client) => {
      seen.push(client.ip);
      return Promise.resolve(new Response("hello"));
    },
    { maxHeaderBytes: 16 * 1024, maxBodyBytes: 64 * 1024, bodyTimeoutMs: 1_000 },
    (error) => errors.push(error),
  );
  listener(req, res);
  for (let i = 0; i < 50 && !res.destroyed; i++) await new Promise((r) => setTimeout(r, 10));
  assertEquals(res.destroyed, true);
  assertEquals(seen, []);
  assertEquals(errors, []);
  socket.destroy();
});
