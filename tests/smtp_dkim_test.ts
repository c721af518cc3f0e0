/**
 * Submitted mail is DKIM-signed for its From domain (issue 6), before it is stored or queued:
 * alice submits to bob (local) and to a remote address (queued); both copies carry RSA and
 * Ed25519 signatures that dkimpy, an independent verifier, accepts with the published
 * records. Mail received as MX is not signed.
 *
 * @module
 */

import { dkimRecordName, dkimRecordText } from "../src/dkim/mod.ts";
import { assertEquals } from "./assert.ts";
import { dkimpyVerify } from "./dkimpy.ts";
import { withSmtp } from "./smtp.ts";
import { message, submission, using, Wire } from "./smtp_wire.ts";
import { GOOD_PASSWORD } from "./store.ts";

Deno.test("submission: mail is signed with the From domain's DKIM keys; MX mail is not", async () => {
  await withSmtp(async (t) => {
    await t.store.dkimKeys.rotate("example.org");
    const records = Object.fromEntries(
      (await t.store.dkimKeys.published("example.org")).map((k) => [
        dkimRecordName(k.selector, k.domain),
        dkimRecordText(k.algorithm, k.publicKey),
      ]),
    );
    await using(() => submission(t, "alice@example.org", GOOD_PASSWORD), async (c) => {
      await c.command("MAIL FROM:<alice@example.org>", "250 2.1.0");
      await c.command("RCPT TO:<bob@example.org>", "250 2.1.5");
      await c.command("RCPT TO:<carol@remote.example>", "250 2.1.5");
      await c.command("DATA", "354");
      await c.send(
        message(
          "From: Alice <alice@example.org>",
          "To: bob@example.org",
          "Subject: signed",
          "",
          "Hello.",
        ) + ".\r\n",
      );
      await c.expect("250 2.0.0");
    });
    const [local] = await t.inbox(t.bob.id);
    const verdicts = await dkimpyVerify(new TextEncoder().encode(local!), records);
    assertEquals(verdicts.map((v) => [v.algorithm, v.ok]), [
      ["rsa-sha256", true],
      ["ed25519-sha256", true],
    ]);
    const [queued] = await t.store.queue.list();
    const entry = await t.store.queue.read(queued!.id);
    assertEquals((await dkimpyVerify(entry.message, records)).map((v) => v.ok), [true, true]);

    // As MX, from outside: stored as it came.
    const mx = await Wire.connect(t.ports.mx);
    try {
      await mx.expect("220");
      await mx.command("EHLO peer.example", "250");
      await mx.command("MAIL FROM:<x@peer.example>", "250 2.1.0");
      await mx.command("RCPT TO:<bob@example.org>", "250 2.1.5");
      await mx.command("DATA", "354");
      await mx.send(message("From: alice@example.org", "Subject: forged", "", "x") + ".\r\n");
      await mx.expect("250 2.0.0");
    } finally {
      mx.close();
    }
    const stored = await t.inbox(t.bob.id);
    assertEquals(stored[1]!.includes("DKIM-Signature:"), false);
  });
});
