/**
 * THREAD's algorithms (RFC 5256 §2.1 ORDEREDSUBJECT, §2.2 REFERENCES) and the THREAD
 * response (§4). Pure: messages come in as {@link ThreadItem}s.
 *
 * Choices and invariants:
 * - Message IDs compare octet by octet, whitespace inside them removed; anything between
 *   `<` and `>` counts as an ID. A message without one, or with an ID already taken by another
 *   message, gets a container of its own (§2.2 step 1A).
 * - Base subjects compare under "i;ascii-casemap" (sort.ts); sent dates are the Date header's
 *   instant, else the internal date; ties keep mailbox order (lower sequence number first).
 * - No recursion over message chains: threads as deep as the mailbox is long are fine.
 *
 * @module
 */

import { baseSubject, casemap, sentDate, type SortItem } from "./sort.ts";

/** One message as THREAD sees it. */
export interface ThreadItem extends SortItem {
  /** The References header (REFERENCES only; null when absent or not read). */
  readonly references: string | null;
}

/** A node of a thread: a message (its number in the response), or a dummy (null). */
export interface ThreadNode {
  readonly id: number | null;
  readonly children: readonly ThreadNode[];
}

/** Message IDs in a header value, in order (RFC 5256 §2.2 step 1: invalid ones ignored). */
export function messageIds(value: string | null): string[] {
  if (value === null) return [];
  const out: string[] = [];
  for (const m of value.replace(/\s+/g, "").matchAll(/<([^<>]+)>/g)) out.push(m[1]!);
  return out;
}

interface Key {
  readonly date: number;
  readonly seq: number;
}

function byDate(a: Key, b: Key): number {
  return a.date - b.date || a.seq - b.seq;
}

/**
 * RFC 5256 §2.1 ORDEREDSUBJECT: messages grouped by base subject; in each group the earliest
 * (by sent date) is the parent of the others, in date order; groups ordered by that parent's
 * date. `number` gives the message's number in the response (sequence number or UID).
 */
export function threadOrderedSubject(
  items: readonly ThreadItem[],
  number: (item: ThreadItem) => number,
): ThreadNode[] {
  const groups = new Map<string, { key: Key; item: ThreadItem }[]>();
  for (const item of items) {
    const subject = casemap(baseSubject(item.cache?.summary.subject ?? "").base);
    let group = groups.get(subject);
    if (group === undefined) groups.set(subject, group = []);
    group.push({ key: { date: sentDate(item), seq: item.seq }, item });
  }
  const threads = [...groups.values()].map((group) => group.sort((a, b) => byDate(a.key, b.key)));
  threads.sort((a, b) => byDate(a[0]!.key, b[0]!.key));
  return threads.map(([first, ...rest]) => ({
    id: number(first!.item),
    children: rest.map((m) => ({ id: number(m.item), children: [] })),
  }));
}

/** A container of the REFERENCES algorithm (§2.2). */
interface Container {
  item: ThreadItem | null;
  parent: Container | null;
  children: Container[];
}

function unlink(c: Container): void {
  const parent = c.parent;
  if (parent === null) return;
  parent.children = parent.children.filter((x) => x !== c);
  c.parent = null;
}

function link(parent: Container, child: Container): void {
  child.parent = parent;
  parent.children.push(child);
}

/** True when `a` is `b` or one of its ancestors. */
function isAncestor(a: Container, b: Container): boolean {
  for (let c: Container | null = b; c !== null; c = c.parent) if (c === a) return true;
  return false;
}

/** Step 4: dummies without children go; a dummy's children move up, except at the root. */
function prune(roots: Container[]): Container[] {
  // Bottom up, without recursion: a container's children are pruned before it is.
  for (const c of preorder(roots).reverse()) c.children = pruneLevel(c, c.children, false);
  return pruneLevel(null, roots, true);
}

/** The containers under `roots` (included), each before its descendants. */
function preorder(roots: readonly Container[]): Container[] {
  const order: Container[] = [];
  const stack = [...roots];
  while (stack.length > 0) {
    const c = stack.pop()!;
    order.push(c);
    stack.push(...c.children);
  }
  return order;
}

function pruneLevel(parent: Container | null, list: Container[], root: boolean): Container[] {
  const out: Container[] = [];
  for (const c of list) {
    if (c.item === null && (c.children.length === 0 || !root || c.children.length === 1)) {
      out.push(...c.children); // a dummy: its children (if any) take its place
      continue;
    }
    out.push(c);
  }
  for (const c of out) c.parent = parent;
  return out;
}

/** The subject of a root: its message's, or its first child's for a dummy (§2.2 step 5A). */
function rootItem(c: Container): ThreadItem | null {
  return c.item ?? c.children[0]?.item ?? null;
}

/**
 * RFC 5256 §2.2 REFERENCES: threads from Message-ID, References and In-Reply-To, then roots
 * with the same base subject gathered, then siblings ordered by sent date.
 */
export function threadReferences(
  items: readonly ThreadItem[],
  number: (item: ThreadItem) => number,
): ThreadNode[] {
  // Step 1: containers by Message-ID.
  const byId = new Map<string, Container>();
  const container = (id: string): Container => {
    let c = byId.get(id);
    if (c === undefined) byId.set(id, c = { item: null, parent: null, children: [] });
    return c;
  };
  const all: Container[] = [];
  for (const item of items) {
    // 1A: the message's own container; a duplicate or missing ID gets a new one.
    const id = messageIds(item.cache?.envelope.messageId ?? null)[0];
    const existing = id === undefined ? undefined : byId.get(id);
    let own: Container;
    if (id !== undefined && (existing === undefined || existing.item === null)) {
      own = container(id);
      own.item = item;
    } else {
      own = { item, parent: null, children: [] };
    }
    all.push(own);
    // 1B: References, else the first ID of In-Reply-To, linked in order where unlinked.
    let refs = messageIds(item.references);
    if (refs.length === 0) refs = messageIds(item.cache?.envelope.inReplyTo ?? null).slice(0, 1);
    const chain = refs.map(container);
    for (let i = 1; i < chain.length; i++) {
      const parent = chain[i - 1]!;
      const child = chain[i]!;
      if (child.parent === null && !isAncestor(child, parent) && !isAncestor(parent, child)) {
        link(parent, child);
      }
    }
    // 1C: the last reference is the message's parent, replacing a guessed one, unless a loop.
    // Without references, a parent guessed from other messages' References stays: the result
    // does not depend on the order in which messages are seen.
    const last = chain[chain.length - 1];
    if (last !== undefined && !isAncestor(own, last)) {
      unlink(own);
      link(last, own);
    }
  }
  // Step 2: the root set (containers of the table and those without ID, parentless).
  const seen = new Set<Container>();
  let roots: Container[] = [];
  for (const c of [...all, ...byId.values()]) {
    if (seen.has(c)) continue;
    seen.add(c);
    if (c.parent === null) roots.push(c);
  }
  // Step 3 drops the table; step 4 prunes the dummies.
  roots = prune(roots);
  // Step 5: roots with the same base subject are gathered.
  roots = gatherBySubject(roots);
  // Step 6: siblings by sent date; a dummy dates from its first (earliest) child.
  return sortSiblings(roots).map((c) => toNode(c, number));
}

function subjectOf(c: Container): { key: string; reply: boolean } | null {
  const item = rootItem(c);
  const base = baseSubject(item?.cache?.summary.subject ?? "");
  return base.base === "" ? null : { key: casemap(base.base), reply: base.replyOrForward };
}

function gatherBySubject(roots: Container[]): Container[] {
  // 5B: one container per subject: a dummy first, else one whose subject is not a reply.
  const table = new Map<string, Container>();
  const replyOf = (c: Container) => c.item !== null && subjectOf(c)!.reply;
  for (const c of roots) {
    const subject = subjectOf(c);
    if (subject === null) continue;
    const old = table.get(subject.key);
    if (
      old === undefined || (c.item === null && old.item !== null) ||
      (old.item !== null && c.item !== null && replyOf(old) && !subject.reply)
    ) table.set(subject.key, c);
  }
  // 5C: merge each other root with the same subject into the table's.
  const out: Container[] = [];
  const replaced = new Map<Container, Container>();
  for (const c of roots) {
    const subject = subjectOf(c);
    let found = subject === null ? undefined : table.get(subject.key);
    while (found !== undefined && replaced.has(found)) found = replaced.get(found)!;
    if (found === undefined || found === c) {
      out.push(c);
      continue;
    }
    if (found.item === null && c.item === null) {
      for (const child of c.children) link(found, child); // both dummies: one of children
      c.children = [];
    } else if (found.item === null) {
      link(found, c);
    } else if (c.item !== null && !replyOf(found) && replyOf(c)) {
      link(found, c);
    } else {
      // Neither fits under the other: a new dummy holds both, in the table's container's place.
      const dummy: Container = { item: null, parent: null, children: [] };
      const at = out.indexOf(found);
      if (at !== -1) out[at] = dummy;
      else roots.splice(roots.indexOf(found), 1, dummy);
      link(dummy, found);
      link(dummy, c);
      replaced.set(found, dummy);
      table.set(subject!.key, dummy);
    }
  }
  return out;
}

/** Sorts every list of siblings by date, children first; returns the sorted roots. */
function sortSiblings(roots: Container[]): Container[] {
  const dates = new Map<Container, Key>();
  const sortList = (list: Container[]) => list.sort((a, b) => byDate(dates.get(a)!, dates.get(b)!));
  for (const c of preorder(roots).reverse()) {
    sortList(c.children);
    const first = c.children[0];
    dates.set(
      c,
      c.item !== null
        ? { date: sentDate(c.item), seq: c.item.seq }
        : first === undefined
        ? { date: 0, seq: 0 }
        : dates.get(first)!,
    );
  }
  return sortList(roots);
}

function toNode(root: Container, number: (item: ThreadItem) => number): ThreadNode {
  // Iterative: children are converted before their parent.
  const nodes = new Map<Container, ThreadNode>();
  for (const c of preorder([root]).reverse()) {
    nodes.set(c, {
      id: c.item === null ? null : number(c.item),
      children: c.children.map((x) => nodes.get(x)!),
    });
  }
  return nodes.get(root)!;
}

/**
 * The untagged THREAD response with its CRLF (RFC 5256 §4): a chain is `(1 2 3)`, several
 * children are nested lists `(1 (2)(3 4))`, a dummy root only its children `((2)(3))`.
 *
 * @example
 * ```ts
 * threadResponse([{ id: 1, children: [{ id: 2, children: [] }, { id: 3, children: [] }] }]);
 * // "* THREAD (1 (2)(3))\r\n"
 * ```
 */
export function threadResponse(threads: readonly ThreadNode[]): string {
  if (threads.length === 0) return "* THREAD\r\n";
  return `* THREAD ${threads.map((t) => `(${members(t)})`).join("")}\r\n`;
}

/** thread-members [SP thread-nested] for a node and its descendants, without recursion. */
function members(node: ThreadNode): string {
  // RFC 5256 §5: thread-list = "(" (thread-members / thread-nested) ")"; thread-members =
  // nz-number *(SP nz-number) [SP thread-nested]; thread-nested = 2*thread-list
  let out = "";
  const stack: (ThreadNode | string)[] = [node];
  while (stack.length > 0) {
    const top = stack.pop()!;
    if (typeof top === "string") {
      out += top;
      continue;
    }
    if (top.id !== null) out += out === "" || out.endsWith("(") ? `${top.id}` : ` ${top.id}`;
    if (top.children.length === 1) {
      stack.push(top.children[0]!);
    } else if (top.children.length > 1) {
      if (top.id !== null) out += " ";
      for (const child of [...top.children].reverse()) stack.push(")", child, "(");
    }
  }
  return out;
}
