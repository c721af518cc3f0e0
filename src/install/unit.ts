/**
 * The systemd unit `fumi install` writes: the server as an unprivileged user that may bind the
 * mail ports and write only its data directory, with the kernel, devices, other users' files
 * and every system call it does not need out of reach (systemd.exec(5)).
 *
 * Left out, on purpose:
 * - MemoryDenyWriteExecute: V8 compiles JavaScript and WebAssembly into memory it writes and
 *   then executes. Only `--jitless` avoids that, and jitless V8 has no WebAssembly, which PGlite
 *   and Argon2id (hash-wasm) are made of (tests/install_test.ts checks this on our Deno).
 * - PrivateUsers: in a user namespace CAP_NET_BIND_SERVICE would not reach the host's network
 *   namespace, so ports below 1024 could not be bound.
 * - A watchdog (Type=notify, WatchdogSec): sd_notify is a datagram on a unix socket, and Deno
 *   offers unix datagram sockets only behind --unstable-net; Restart=on-failure restarts a
 *   server that exits, and /healthz is there for a monitor that checks it is alive.
 * - @resources in the system call deny list: Deno raises its open-file limit (setrlimit), and
 *   its runtime reads CPU affinity; both are in @resources.
 *
 * @module
 */

/** Where the master key comes from, as the unit says it. */
export type UnitCredential =
  | { readonly kind: "encrypted"; readonly path: string }
  | { readonly kind: "plain"; readonly path: string }
  | { readonly kind: "none" };

/**
 * What a unit is written for. Paths are those of the installed system, absolute, and plain
 * (see {@link PLAIN_PATH}): nothing in them needs quoting or escaping in a unit or a shell.
 */
export interface UnitOptions {
  readonly binary: string;
  readonly user: string;
  /** The user's primary group. */
  readonly group: string;
  readonly dataDir: string;
  readonly configPath: string;
  readonly credential: UnitCredential;
}

/** Paths `fumi install` accepts: no spaces, quotes, `%` specifiers or shell characters. */
export const PLAIN_PATH = /^\/[A-Za-z0-9_.\/@+-]*$/;

/** The credential name the server reads (`$CREDENTIALS_DIRECTORY/master-key`). */
export const CREDENTIAL_NAME = "master-key";

/** Renders fumi.service. */
export function renderUnit(options: UnitOptions): string {
  const { binary, user, group, dataDir, configPath, credential } = options;
  const lines = [
    "# Written by fumi install. fumi uninstall removes it; fumi install --print-unit shows it.",
    "[Unit]",
    "Description=Fumi mail server",
    "After=network-online.target",
    "Wants=network-online.target",
    "",
    "[Service]",
    "Type=exec",
    `ExecStart=${binary} serve --config ${configPath}`,
    `User=${user}`,
    `Group=${group}`,
    `WorkingDirectory=${dataDir}`,
    "Restart=on-failure",
    "RestartSec=5s",
    // 5000 connections at once (shared/DESIGN.md) need more than the default 1024 descriptors.
    "LimitNOFILE=65536",
    "UMask=0077",
  ];
  // systemd.exec(5) "Credentials": decrypted (or read) by systemd as root, handed to the
  // service in $CREDENTIALS_DIRECTORY, where only the service's user can read it.
  if (credential.kind === "encrypted") {
    lines.push(`LoadCredentialEncrypted=${CREDENTIAL_NAME}:${credential.path}`);
  } else if (credential.kind === "plain") {
    lines.push(`LoadCredential=${CREDENTIAL_NAME}:${credential.path}`);
  }
  lines.push(
    "",
    "# Privileges: the mail and web ports below 1024, nothing else.",
    "AmbientCapabilities=CAP_NET_BIND_SERVICE",
    "CapabilityBoundingSet=CAP_NET_BIND_SERVICE",
    "NoNewPrivileges=yes",
    "",
    "# Files: the whole system read-only, the data directory writable, no homes, own /tmp.",
    "ProtectSystem=strict",
    `ReadWritePaths=${dataDir}`,
    "ProtectHome=yes",
    "PrivateTmp=yes",
    "PrivateDevices=yes",
    "PrivateMounts=yes",
    "",
    "# The kernel and other processes.",
    "ProtectKernelTunables=yes",
    "ProtectKernelModules=yes",
    "ProtectKernelLogs=yes",
    "ProtectControlGroups=yes",
    "ProtectClock=yes",
    "ProtectHostname=yes",
    "ProtectProc=invisible",
    "ProcSubset=pid",
    "KeyringMode=private",
    "RemoveIPC=yes",
    "",
    "# Sockets: IP for mail and DNS, unix for the embedded database; no raw or netlink sockets.",
    "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
    "RestrictNamespaces=yes",
    "RestrictRealtime=yes",
    "RestrictSUIDSGID=yes",
    "LockPersonality=yes",
    "",
    "# System calls: what services use, less the privileged ones; others fail with EPERM.",
    "SystemCallArchitectures=native",
    "SystemCallFilter=@system-service",
    "SystemCallFilter=~@privileged",
    "SystemCallErrorNumber=EPERM",
    "",
    "[Install]",
    "WantedBy=multi-user.target",
    "",
  );
  return lines.join("\n");
}
