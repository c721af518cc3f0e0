/**
 * `fumi alias add|list|remove`.
 *
 * @module
 */

import { UsageError } from "../../util/errors.ts";
import { parseArgs } from "../args.ts";
import { type Command, group } from "../command.ts";
import { audit } from "./_audit.ts";
import { withStore } from "../context.ts";

const flags = { string: ["config"] } as const;

const add: Command = {
  name: "add",
  usage: "fumi alias add SOURCE DEST…",
  summary: "Forward SOURCE (an address, or @domain for a catch-all) to one or more addresses.",
  run: async (io, argv) => {
    const args = parseArgs(argv, flags);
    const [source, ...destinations] = args.positional;
    if (source === undefined) throw new UsageError(`Missing SOURCE; usage: ${add.usage}`);
    if (destinations.length === 0) throw new UsageError(`Missing DEST; usage: ${add.usage}`);
    await withStore(io, args, async (store) => {
      const alias = await store.aliases.add(source, destinations);
      await audit(io, store, "alias.add", alias.source, { destinations: alias.destinations });
      io.out(`${alias.source} -> ${alias.destinations.join(", ")}`);
    });
  },
};

const list: Command = {
  name: "list",
  usage: "fumi alias list [DOMAIN]",
  summary: "List aliases and where they go.",
  run: async (io, argv) => {
    const args = parseArgs(argv, flags);
    if (args.positional.length > 1) {
      throw new UsageError(`Unexpected argument "${args.positional[1]}"; usage: ${list.usage}`);
    }
    await withStore(io, args, async (store) => {
      for (const alias of await store.aliases.list(args.positional[0])) {
        io.out(`${alias.source} -> ${alias.destinations.join(", ")}`);
      }
    });
  },
};

const remove: Command = {
  name: "remove",
  usage: "fumi alias remove SOURCE [DEST…]",
  summary: "Remove an alias, or only some of its destinations.",
  run: async (io, argv) => {
    const args = parseArgs(argv, flags);
    const [source, ...destinations] = args.positional;
    if (source === undefined) throw new UsageError(`Missing SOURCE; usage: ${remove.usage}`);
    await withStore(io, args, async (store) => {
      await store.aliases.remove(source, destinations);
      await audit(io, store, "alias.remove", source, { destinations });
      io.out(
        destinations.length
          ? `Removed ${destinations.join(", ")} from ${source}.`
          : `Removed alias ${source}.`,
      );
    });
  },
};

/** `fumi alias`. */
export const aliasCommand = group("alias", "Manage aliases and catch-alls.", [add, list, remove]);
