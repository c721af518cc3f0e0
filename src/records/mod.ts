/**
 * The DNS records of a hosted domain: what to publish (MX, SPF, DKIM, DMARC, TLS-RPT, the
 * server's address and PTR) and a check of what is published, as receivers would judge it.
 *
 * Invariants: nothing here writes DNS; a lookup that fails is reported as unknown, never as
 * missing, so a resolver outage does not send an administrator chasing records that are fine.
 *
 * @module
 */

export { checkRecords, type Finding, type FindingStatus } from "./check.ts";
export {
  ADDRESS_PLACEHOLDER,
  type DkimPublication,
  type DomainSetup,
  type ExpectedRecord,
  expectedRecords,
  type RecordKind,
  zoneLines,
} from "./expected.ts";
