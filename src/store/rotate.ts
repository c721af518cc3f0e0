/**
 * Master key rotation: make the ring's primary the database's primary and re-wrap every data
 * key with it. Mail is never re-encrypted: only the 32-byte data keys change wrapping.
 *
 * The work is done in small transactions (`FOR UPDATE` batches), so it can run beside a live
 * server and be interrupted: a data key not yet re-wrapped still names the old master key,
 * which stays readable for as long as the ring holds it, and running the rotation again
 * finishes the job. The batches wait for rows another transaction holds (a concurrent
 * rotation, an account being created or deleted) rather than skip them, and the loop ends only
 * when no data key names another master key, so a finished rotation leaves nothing behind.
 * Master keys no data key uses any more are marked retired.
 *
 * @module
 */

import { open, seal } from "../crypto/envelope.ts";
import { makeCheckValue, type MasterKeyRing, verifyCheckValue } from "../crypto/master_key.ts";
import type { Sql } from "./db.ts";
import { dataKeyPlacement, formatKeyId, type KeyRow, MasterKeyError } from "./vault.ts";

/** What a rotation did. */
export interface RotationReport {
  readonly primary: string;
  readonly rewrapped: number;
  readonly retired: readonly string[];
}

/** Re-wraps every data key with the ring's primary, `batchSize` keys per transaction. */
export async function rotateDataKeys(
  sql: Sql,
  ring: MasterKeyRing,
  onProgress: (done: number, total: number) => void = () => {},
  batchSize = 200,
): Promise<RotationReport> {
  const target = ring.primary;
  const check = await makeCheckValue(target);
  await sql.begin(async (tx) => {
    await tx`insert into master_keys (kek_id, state, check_value)
             values (${target.id}, 'active', ${check}) on conflict (kek_id) do nothing`;
    const [row] = await tx<{ check_value: Uint8Array }[]>`
      select check_value from master_keys where kek_id = ${target.id} for update`;
    if (!row || !(await verifyCheckValue(target, row.check_value))) {
      throw new MasterKeyError(
        `Master key ${formatKeyId(target.id)} fails its recorded check value`,
      );
    }
    await tx`update master_keys set state = 'active' where state = 'primary' and kek_id <> ${target.id}`;
    await tx`update master_keys set state = 'primary' where kek_id = ${target.id}`;
  });

  const [counted] = await sql<{ total: number }[]>`
    select count(*)::int as total from data_keys where kek_id <> ${target.id}`;
  const total = counted!.total;
  let done = 0;
  onProgress(done, total);
  for (;;) {
    const count = await sql.begin(async (tx) => {
      const rows = await tx<KeyRow[]>`
        select id, account_id, kek_id, wrapped from data_keys
        where kek_id <> ${target.id} order by id limit ${batchSize} for update`;
      for (const row of rows) {
        const master = ring.byId(row.kek_id);
        if (!master) {
          throw new MasterKeyError(
            `Data key ${row.id} is wrapped with master key ${
              formatKeyId(row.kek_id)
            }, which the ring does not hold; add the old key to the ring and run the rotation again`,
          );
        }
        const raw = await open(master.key, row.wrapped, dataKeyPlacement(row.id));
        const wrapped = await seal(target.key, target.id, raw, dataKeyPlacement(row.id));
        raw.fill(0);
        await tx`update data_keys set kek_id = ${target.id}, wrapped = ${wrapped} where id = ${row.id}`;
      }
      return rows.length;
    });
    // Zero rows in this statement's snapshot; a data key committed after it (wrapped by a
    // master key read before the promotion above) would still be left, so check once more.
    if (count === 0) {
      if (await rotationComplete(sql, ring)) break;
      continue;
    }
    done += count;
    onProgress(done, total);
  }

  const retired = await sql<{ kek_id: number }[]>`
    update master_keys set state = 'retired'
    where state = 'active'
      and not exists (select 1 from data_keys d where d.kek_id = master_keys.kek_id)
    returning kek_id`;
  return {
    primary: formatKeyId(target.id),
    rewrapped: done,
    retired: retired.map((r) => formatKeyId(r.kek_id)),
  };
}

/** True when no data key is wrapped by anything but the ring's primary. */
export async function rotationComplete(sql: Sql, ring: MasterKeyRing): Promise<boolean> {
  const [row] = await sql`select 1 from data_keys where kek_id <> ${ring.primary.id} limit 1`;
  return row === undefined;
}
