/**
 * Configuration: the schema and the loader. Loaded once at start-up, validated, frozen, and
 * passed down; nothing else reads `FUMI_*` configuration variables.
 *
 * @module
 */

export {
  type Config,
  type ConfigSources,
  DEV_PORTS,
  type DnsConfig,
  type ListenerConfig,
  loadConfig,
  PRODUCTION_PORTS,
} from "./load.ts";
export { type ConfigInput, LISTENER_NAMES, type ListenerName } from "./schema.ts";
