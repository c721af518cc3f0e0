import { assert, assertEquals, assertStringIncludes } from "../../tests/assert.ts";
import type { AuthResults } from "./authenticate.ts";
import { authResultsValue, comment, pvalue, resultClauses, sealingResults } from "./results.ts";

const PASS = {
  domain: "sender.example",
  result: "pass",
  published: "reject",
  policy: "none",
  aligned: { spf: "sender.example", dkim: "sender.example" },
  reason: "aligned",
} as const;

const BASE: AuthResults = {
  spf: [
    { identity: "mailfrom", value: "a@sender.example", domain: "sender.example", result: "pass" },
    {
      identity: "helo",
      value: "client.sender.example",
      domain: "client.sender.example",
      result: "none",
    },
  ],
  dkim: [{
    result: "pass",
    domain: "sender.example",
    selector: "ed",
    algorithm: "ed25519-sha256",
    b: "abcdEFGH",
    reason: null,
  }],
  arc: { result: "none", sealer: null },
  dmarc: {
    kind: "evaluated",
    outcomes: [{
      domain: "sender.example",
      result: "pass",
      published: "reject",
      policy: "none",
      aligned: { spf: "sender.example", dkim: "sender.example" },
      reason: "aligned",
    }],
  },
  disposition: { action: "none", domain: null, reason: null },
};

Deno.test("Authentication-Results: a resinfo per identity, signature and Author Domain", () => {
  assertEquals(
    authResultsValue("mx.example.org", resultClauses(BASE)),
    [
      "mx.example.org",
      "spf=pass smtp.mailfrom=a@sender.example",
      "spf=none smtp.helo=client.sender.example",
      "dkim=pass header.d=sender.example header.s=ed header.a=ed25519-sha256 header.b=abcdEFGH",
      "dmarc=pass (p=reject) header.from=sender.example",
      "arc=none",
    ].join("; "),
  );
  // No signature at all; a failed DMARC with its disposition; a permanent error; ARC.
  assertEquals(
    resultClauses({
      ...BASE,
      spf: [],
      dkim: [],
      arc: { result: "pass", sealer: "lists.example" },
      dmarc: { kind: "permerror", reason: "2 From fields", domain: null },
    }),
    ["dkim=none", "dmarc=permerror (2 From fields)", "arc=pass (sealed by lists.example)"],
  );
  assertEquals(
    resultClauses({
      ...BASE,
      dmarc: {
        kind: "evaluated",
        outcomes: [
          {
            ...BASE.dkim[0]!,
            domain: "a.example",
            result: "fail",
            published: "reject",
            policy: "quarantine",
            aligned: { spf: null, dkim: null },
            reason: "x",
          },
          {
            domain: "b.example",
            result: "none",
            published: null,
            policy: "none",
            aligned: { spf: null, dkim: null },
            reason: "no DMARC record",
          },
        ],
      },
    }).slice(3, 5),
    [
      "dmarc=fail (p=reject dis=quarantine) header.from=a.example",
      "dmarc=none (no DMARC record) header.from=b.example",
    ],
  );
});

Deno.test("Authentication-Results: what a sender wrote cannot add a resinfo or a property", () => {
  const hostile: AuthResults = {
    ...BASE,
    spf: [{
      identity: "mailfrom",
      value: '"x; dkim=pass"@evil.example',
      domain: "evil.example",
      result: "fail",
    }],
    dkim: [{
      result: "fail",
      domain: "evil.example; dmarc=pass",
      selector: "s (x) \\",
      algorithm: "rsa-sha256\r\nX-Injected: 1",
      b: 'ab"cd',
      reason: "body hash did not verify) dmarc=pass (",
    }],
  };
  assertEquals(resultClauses(hostile).slice(0, 2), [
    'spf=fail smtp.mailfrom="\\"x; dkim=pass\\"@evil.example"',
    // A value that is no domain, or has a line break, is not written at all (never altered):
    // header.d, header.s and header.a are left out.
    'dkim=fail (body hash did not verify\\) dmarc=pass \\() header.b="ab\\"cd"',
  ]);
  assertEquals(pvalue("", 253), null);
  assertEquals(pvalue("a@b.example", 254), "a@b.example");
  assertEquals(comment("x".repeat(300)).length, 66);
  // The longest resinfo a sender can cause stays far below the writer's bound of 900.
  const long = '"'.repeat(300);
  const worst = resultClauses({
    ...hostile,
    dkim: [{
      result: "fail",
      domain: long,
      selector: long,
      algorithm: long,
      b: long,
      reason: long,
    }],
  })[1]!;
  assertEquals(worst.length < 800, true);
});

Deno.test("Authentication-Results: a trusted ARC chain's override shows as the disposition", () => {
  const clauses = resultClauses({
    ...BASE,
    arc: { result: "pass", sealer: "lists.example" },
    dmarc: {
      kind: "evaluated",
      outcomes: [{
        domain: "sender.example",
        result: "fail",
        published: "reject",
        policy: "reject",
        aligned: { spf: null, dkim: null },
        reason: "no aligned identifier",
      }],
    },
    disposition: {
      action: "none",
      domain: "sender.example",
      reason: "ARC sealed by lists.example",
    },
  });
  assertEquals(clauses.slice(-2), [
    "dmarc=fail (p=reject dis=none override: ARC sealed by lists.example) header.from=sender.example",
    "arc=pass (sealed by lists.example)",
  ]);
});

Deno.test("Authentication-Results: a signature without its tags is a permerror with what it had", () => {
  const clauses = resultClauses({
    ...BASE,
    dkim: [{
      result: "permerror",
      domain: "",
      selector: "",
      algorithm: "",
      b: "",
      reason: "signature not usable",
    }],
  });
  assertEquals(clauses[2], "dkim=permerror (signature not usable)");
});

Deno.test("sealingResults: our field's payload and its arc= result, for ARC sealing", () => {
  const field =
    "Authentication-Results: mx.example.org;\r\n\tspf=pass smtp.mailfrom=a@b.example;\r\n" +
    '\tdkim=fail (reason "x; arc=pass") header.d=b.example;\r\n\tarc=fail (sealed by lists.example)\r\n';
  assertEquals(sealingResults(field), {
    authResults:
      'mx.example.org; spf=pass smtp.mailfrom=a@b.example; dkim=fail (reason "x; arc=pass") header.d=b.example; arc=fail (sealed by lists.example)',
    chain: "fail",
  });
  // What resultClauses writes, read back.
  const value = authResultsValue("mx.example.org", resultClauses(BASE));
  assertEquals(sealingResults(value)?.chain, BASE.arc.result);
  assertEquals(sealingResults(value)?.authResults, value);
  // A quoted "; arc=pass" is no resinfo; no arc= resinfo at all: nothing to seal with.
  assertEquals(sealingResults('mx.example.org; dkim=none reason="; arc=pass"'), null);
  assertEquals(sealingResults("Authentication-Results: mx.example.org; none\r\n"), null);
});

Deno.test("Authentication-Results: identities are never cut; too long, they are left out", () => {
  // 51 "a" and ".bank.example.evil.example": 77 characters. Cut to 64, it would have read
  // "aaa….bank.example" while the domain evaluated was under evil.example.
  const long = `${"a".repeat(51)}.bank.example.evil.example`;
  const clauses = resultClauses({
    ...BASE,
    spf: [{ identity: "mailfrom", value: `x@${long}`, domain: long, result: "pass" }],
    dkim: [{ ...BASE.dkim[0]!, domain: long }],
    dmarc: {
      kind: "evaluated",
      outcomes: [{ ...PASS, domain: long }],
    },
  });
  assertEquals(clauses[0], `spf=pass smtp.mailfrom=x@${long}`);
  assertEquals(
    clauses[1],
    `dkim=pass header.d=${long} header.s=ed header.a=ed25519-sha256 header.b=abcdEFGH`,
  );
  assertEquals(clauses[2], `dmarc=pass (p=reject) header.from=${long}`);
  // Longer than a domain or an address may be: the property is left out, not cut.
  const label = "a".repeat(63);
  const huge = [label, label, label, label, "example"].join(".");
  const out = resultClauses({
    ...BASE,
    spf: [{ identity: "mailfrom", value: `x@${huge}`, domain: huge, result: "fail" }],
    dkim: [{ ...BASE.dkim[0]!, domain: huge }],
    dmarc: { kind: "evaluated", outcomes: [{ ...PASS, domain: huge }] },
  });
  assertEquals(out.slice(0, 3), [
    "spf=fail",
    "dkim=pass header.s=ed header.a=ed25519-sha256 header.b=abcdEFGH",
    "dmarc=pass (p=reject)",
  ]);
  // The longest resinfo that can be written whole stays below the writer's bound of 900.
  const domain = [label, label, label, "a".repeat(61)].join(".");
  assertEquals(domain.length, 253);
  const worst = resultClauses({
    ...BASE,
    spf: [{
      identity: "mailfrom",
      value: `"${'\\"'.repeat(125)}"@b.example`,
      domain: "b.example",
      result: "fail",
    }],
    dkim: [{
      result: "fail",
      domain,
      selector: domain,
      algorithm: '"'.repeat(32),
      b: '"'.repeat(8),
      reason: ")".repeat(300),
    }],
  });
  assert(worst[0]!.length < 900 && worst[1]!.length < 900, JSON.stringify(worst));
  assertStringIncludes(worst[1]!, `header.d=${domain} header.s=${domain}`);
});
