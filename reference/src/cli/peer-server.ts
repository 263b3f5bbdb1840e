/**
 * `peer-server`: the reference server. Every limit and timer is a flag; bad flags get a message
 * naming the flag and the expected form, and exit code 2.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { hostname } from "node:os";
import { randomBytes } from "../crypto.ts";
import { LIMIT_NAMES, type Limits } from "../limits.ts";
import { readKeyFile } from "../server/cluster/at-rest.ts";
import cluster from "node:cluster";
import { redactUrl } from "../server/cluster/registry.ts";
import { PeerServer, SUPPORTED_CAPABILITIES, type PeerServerOptions } from "../server/server.ts";
import { runWorkers } from "./workers.ts";

const limitFlag = (name: string): string => name.replaceAll("_", "-");

const USAGE = `usage: peer-server [options]

  --host HOST                  address to listen on (default 127.0.0.1)
  --port PORT                  port, 0 for a free one (default 8080)
  --server-id ID               the server's entity id (default peer-server)
  --identity-seed HEX          32-byte Ed25519 seed as 64 hex digits (default: random)
  --require-token              refuse connections without a bearer token
  --token-lifetime SECONDS     lifetime of issued tokens (default 300)
  --origin ORIGIN              allowed Origin header value (repeatable; default: any)
  --capabilities LIST          comma-separated capabilities to offer (default: ${SUPPORTED_CAPABILITIES.join(",")})
  --tls-cert FILE --tls-key FILE   serve https/wss
  --log-level LEVEL            fatal|error|warn|info|debug|silent (default info)
  --metrics-port PORT          serve GET /metrics on a listener of its own, 0 for a free port;
                               without it /metrics is on the public listener, and not at all
                               under --require-token (a scraper holds no token)
  --metrics-host HOST          address of the metrics listener (default 127.0.0.1)
  --redis URL                  be one node of a cluster on this Redis (redis:// or rediss://);
                               every node needs the same --identity-seed and --server-id
  --redis-key-file FILE        64 hex digits: seals keys, resumption secrets and queued
                               messages in Redis with ChaCha20-Poly1305 (needs --redis)
  --node-id ID                 this node's name in the cluster (default HOST-PID-RANDOM)
  --workers N                  run N worker processes behind the one port (node:cluster), each
                               a node of the cluster (needs --redis when N > 1)
${LIMIT_NAMES.map((name) => `  --${limitFlag(name)} N`).join("\n")}
  --help`;

export class UsageError extends Error {}

function integer(flag: string, value: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!/^\d+$/.test(value)) throw new UsageError(`--${flag} expects a non-negative integer, got "${value}"`);
  const n = Number(value);
  if (n < min || n > max) throw new UsageError(`--${flag} expects an integer from ${min} to ${max}, got ${value}`);
  return n;
}

export type ServerCliOptions = PeerServerOptions & { workers?: number };

export function parseServerArgs(argv: string[]): ServerCliOptions | "help" {
  const limitOptions = Object.fromEntries(LIMIT_NAMES.map((name) => [limitFlag(name), { type: "string" as const }]));
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        host: { type: "string" },
        port: { type: "string" },
        "server-id": { type: "string" },
        "identity-seed": { type: "string" },
        "require-token": { type: "boolean" },
        "token-lifetime": { type: "string" },
        origin: { type: "string", multiple: true },
        capabilities: { type: "string" },
        "tls-cert": { type: "string" },
        "tls-key": { type: "string" },
        "log-level": { type: "string" },
        "metrics-port": { type: "string" },
        "metrics-host": { type: "string" },
        redis: { type: "string" },
        "redis-key-file": { type: "string" },
        "node-id": { type: "string" },
        workers: { type: "string" },
        help: { type: "boolean" },
        ...limitOptions,
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message.replace(/\. To specify.*$/s, ""));
  }
  const v = parsed.values as Record<string, string | string[] | boolean | undefined>;
  if (v.help) return "help";
  const options: ServerCliOptions = { host: (v.host as string | undefined) ?? "127.0.0.1", port: v.port === undefined ? 8080 : integer("port", v.port as string, 0, 65535) };
  if (v["server-id"] !== undefined) {
    if (!/^[A-Za-z0-9._:-]{1,128}$/.test(v["server-id"] as string)) throw new UsageError(`--server-id expects 1 to 128 of [A-Za-z0-9._:-], got "${v["server-id"]}"`);
    options.serverId = v["server-id"] as string;
  }
  if (v["identity-seed"] !== undefined) {
    if (!/^[0-9a-fA-F]{64}$/.test(v["identity-seed"] as string)) throw new UsageError("--identity-seed expects 64 hex digits (a 32-byte Ed25519 seed)");
    options.identitySeed = Buffer.from(v["identity-seed"] as string, "hex");
  }
  if (v["require-token"]) options.requireToken = true;
  if (v["token-lifetime"] !== undefined) options.tokenLifetimeSeconds = integer("token-lifetime", v["token-lifetime"] as string, 1, 3600); // PP-AUTH-003
  if (v.origin) options.originAllowlist = v.origin as string[];
  if (v.capabilities !== undefined) {
    const list = (v.capabilities as string).split(",").filter(Boolean);
    const unknown = list.filter((c) => !SUPPORTED_CAPABILITIES.includes(c));
    if (unknown.length > 0) throw new UsageError(`--capabilities: unknown ${unknown.join(", ")}; expected a comma-separated subset of ${SUPPORTED_CAPABILITIES.join(",")}`);
    options.capabilities = list;
  }
  if ((v["tls-cert"] === undefined) !== (v["tls-key"] === undefined)) throw new UsageError("--tls-cert and --tls-key must be given together");
  if (v["tls-cert"] !== undefined) {
    try {
      options.tls = { cert: readFileSync(v["tls-cert"] as string), key: readFileSync(v["tls-key"] as string) };
    } catch (error) {
      throw new UsageError(`--tls-cert/--tls-key: cannot read ${(error as NodeJS.ErrnoException).path ?? "file"}`);
    }
  }
  if (v["log-level"] !== undefined) {
    if (!["fatal", "error", "warn", "info", "debug", "trace", "silent"].includes(v["log-level"] as string)) throw new UsageError(`--log-level expects one of fatal, error, warn, info, debug, trace, silent; got "${v["log-level"]}"`);
    options.logLevel = v["log-level"] as string;
  }
  if (v["metrics-host"] !== undefined && v["metrics-port"] === undefined) throw new UsageError("--metrics-host needs --metrics-port");
  if (v["metrics-port"] !== undefined) options.metrics = { host: (v["metrics-host"] as string | undefined) ?? "127.0.0.1", port: integer("metrics-port", v["metrics-port"] as string, 0, 65535) };
  const limits: Partial<Limits> = {};
  for (const name of LIMIT_NAMES) {
    const value = v[limitFlag(name)];
    if (value !== undefined) limits[name] = integer(limitFlag(name), value as string, 0);
  }
  options.limits = limits;
  if (v.workers !== undefined) {
    const workers = integer("workers", v.workers as string, 1, 64);
    if (workers > 1 && v.redis === undefined) throw new UsageError("--workers N > 1 needs --redis: the workers share sessions through it");
    options.workers = workers;
  }
  if (v.redis === undefined) {
    for (const flag of ["redis-key-file", "node-id"]) if (v[flag] !== undefined) throw new UsageError(`--${flag} needs --redis`);
  } else {
    const url = v.redis as string;
    if (!/^rediss?:\/\/[^\s]+$/.test(url)) throw new UsageError(`--redis expects a redis:// or rediss:// URL, got "${url.replace(/:[^:@/]*@/, ":***@")}"`);
    if (options.identitySeed === undefined && process.env.PEER_SERVER_IDENTITY_SEED === undefined && (options.workers ?? 1) === 1) throw new UsageError("--redis needs --identity-seed: the nodes of a cluster are one server, with one identity key");
    const nodeId = (v["node-id"] as string | undefined) ?? `${hostname()}-${process.pid}-${randomBytes(3).toString("hex")}`;
    if (!/^[A-Za-z0-9._:-]{1,128}$/.test(nodeId)) throw new UsageError(`--node-id expects 1 to 128 of [A-Za-z0-9._:-], got "${nodeId}"`);
    options.cluster = { redisUrl: url, nodeId };
    if (v["redis-key-file"] !== undefined) {
      try {
        options.cluster.atRestKey = readKeyFile(v["redis-key-file"] as string);
      } catch (error) {
        throw new UsageError((error as Error).message);
      }
    }
  }
  return options;
}

export async function main(argv: string[]): Promise<number> {
  let options;
  try {
    options = parseServerArgs(argv);
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`peer-server: ${error.message}\n(run peer-server --help for the options)`);
      return 2;
    }
    throw error;
  }
  if (options === "help") {
    console.log(USAGE);
    return 0;
  }
  if ((options.workers ?? 1) > 1 && cluster.isPrimary) return runWorkers(options, argv);
  if (cluster.isWorker) {
    // A worker of --workers: the primary's identity, and a node id of its own.
    const seed = process.env.PEER_SERVER_IDENTITY_SEED;
    if (seed !== undefined && options.identitySeed === undefined) options.identitySeed = Buffer.from(seed, "hex");
    if (options.cluster) options.cluster.nodeId = `${options.cluster.nodeId}-w${cluster.worker?.id ?? 0}`;
  }
  const server = await PeerServer.start(options).catch((error: NodeJS.ErrnoException) => {
    if (options.cluster && !error.code) console.error(`peer-server: ${error.message}`);
    else console.error(`peer-server: cannot listen on ${options.host}:${options.port}: ${error.code ?? error.message}`);
    return undefined;
  });
  if (!server) return 2;
  console.log(`peer-server listening on ${server.wsUrl}`);
  console.log(`http base ${server.url}`);
  console.log(`server id ${server.serverId}`);
  console.log(`identity key ${server.identityKey}`);
  if (options.cluster) console.log(`cluster node ${options.cluster.nodeId} on ${redactUrl(options.cluster.redisUrl)}${options.cluster.atRestKey ? ", secrets sealed at rest" : ""}`);
  if (server.metricsUrl) console.log(`metrics ${server.metricsUrl}`);
  else if (options.requireToken) console.log("metrics: not served (--require-token without --metrics-port)");
  const stop = () => void server.close().then(() => process.exit(0));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  return new Promise(() => {}); // runs until a signal
}

// Run as `node dist/reference/src/cli/peer-server.js` or `tsx reference/src/cli/peer-server.ts` (not through bin/, which calls main itself).
const invokedDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href;
if (invokedDirectly) {
  main(process.argv.slice(2)).then((code) => {
    if (code !== undefined) process.exitCode = code;
  });
}
