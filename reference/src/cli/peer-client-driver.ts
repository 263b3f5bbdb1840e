/**
 * `peer-client-driver`: the reference client (`PeerClient`) behind the scenario contract of
 * `peer-conformance client` (spec §18, docs/guides/client-conformance.md). The runner starts it once
 * per case with the case in environment variables, watches the wire, and reads the exit status:
 * 0 the scenario completed, 1 it did not (the client refused the server, or gave up), 2 the driver
 * could not run (bad environment). One line per event goes to stderr; the private key never does.
 *
 * It is also the example for other implementers: everything a client needs to join the test is
 * here, and everything else is the client's own API.
 */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { isDeepStrictEqual } from "node:util";
import { PeerClient, type PeerClientOptions, type TransportPreference } from "../client/peer-client.ts";
import { fromBase64Url } from "../encoding.ts";

export const SCENARIOS = ["echo", "large", "heartbeat", "resume", "http-only", "websocket-first", "receive"] as const;
export type Scenario = (typeof SCENARIOS)[number];

export const EXIT_COMPLETED = 0;
export const EXIT_REFUSED = 1;
export const EXIT_CANNOT_RUN = 2;

export const USAGE = `usage: peer-client-driver   (configured by environment variables; started by peer-conformance client)

  PEER_URL            ws:// or wss:// URL of the responder's /ws/v1/peers; the HTTP binding is
                      the same host with http:// or https://
  PEER_SCENARIO       ${SCENARIOS.join(" | ")}
  PEER_ENTITY_ID      the client's entity id
  PEER_PRIVATE_KEY    the client's identity: a 32-byte Ed25519 seed, base64url
  PEER_SERVER_ID      the responder's entity id; the client refuses another
  PEER_SERVER_KEY     the responder's identity key, base64url, as discovery gives it; the client
                      refuses another
  PEER_TRANSPORT      websocket-first (default) | http-only
  PEER_PAYLOAD_BYTES  large: the size of the echo's data, larger than max_chunk_bytes
  PEER_MESSAGES       resume: how many echo requests to send, one after the other
  PEER_DURATION_MS    heartbeat: how long to stay connected
  PEER_TIMEOUT_MS     give up after this long (default 30000)
  PEER_CAPABILITIES   the capabilities to offer, comma-separated registry names (default: the
                      client's own choice)

exit status: 0 the scenario completed; 1 it did not (the client refused the server, the
connection failed, or PEER_TIMEOUT_MS passed); 2 the driver could not run (bad environment)`;

export interface DriverIo {
  /** One event per call, without a newline. */
  stderr(line: string): void;
  /** Command-line arguments; only --help is understood. */
  argv?: string[];
}

export interface DriverConfig {
  scenario: Scenario;
  /** The http(s) base URL derived from PEER_URL. */
  baseUrl: string;
  entityId: string;
  identitySeed: Buffer;
  serverId: string;
  serverKey: string;
  transport: TransportPreference;
  payloadBytes?: number;
  messages?: number;
  durationMs?: number;
  timeoutMs: number;
  capabilities?: string[];
}

class EnvError extends Error {}

const ENTITY_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const KEY_32 = /^[A-Za-z0-9_-]{43}$/;
const CAPABILITY_NAME = /^[a-z0-9][a-z0-9-]{0,63}$/;

function required(env: Record<string, string | undefined>, name: string): string {
  const value = env[name];
  if (value === undefined || value === "") throw new EnvError(`${name} is not set`);
  return value;
}

function positiveInteger(env: Record<string, string | undefined>, name: string, max: number): number {
  const value = required(env, name);
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > max) throw new EnvError(`${name} expects an integer from 1 to ${max}, got "${value}"`);
  return Number(value);
}

function key32(env: Record<string, string | undefined>, name: string): Buffer {
  const value = required(env, name);
  const bytes = KEY_32.test(value) ? fromBase64Url(value) : undefined;
  // The value itself is not echoed: PEER_PRIVATE_KEY is a secret.
  if (!bytes || bytes.length !== 32) throw new EnvError(`${name} expects 32 bytes in base64url without padding (43 characters)`);
  return bytes;
}

/** Reads the contract's environment; throws EnvError naming the variable at fault. */
export function parseDriverEnv(env: Record<string, string | undefined>): DriverConfig {
  const scenario = required(env, "PEER_SCENARIO");
  if (!(SCENARIOS as readonly string[]).includes(scenario)) throw new EnvError(`PEER_SCENARIO expects one of ${SCENARIOS.join(", ")}, got "${scenario}"`);
  const rawUrl = required(env, "PEER_URL");
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    throw new EnvError(`PEER_URL is not a URL: "${rawUrl}"`);
  }
  if (url.protocol !== "ws:" && url.protocol !== "wss:") throw new EnvError(`PEER_URL expects a ws:// or wss:// URL, got "${rawUrl}"`);
  if (!url.pathname.endsWith("/ws/v1/peers")) throw new EnvError(`PEER_URL expects the URL of /ws/v1/peers, got "${rawUrl}"`);
  const baseUrl = `${url.protocol === "wss:" ? "https:" : "http:"}//${url.host}${url.pathname.slice(0, -"/ws/v1/peers".length)}`;
  const entityId = required(env, "PEER_ENTITY_ID");
  if (!ENTITY_ID.test(entityId)) throw new EnvError(`PEER_ENTITY_ID expects 1 to 128 of [A-Za-z0-9._:-], got "${entityId}"`);
  const serverId = required(env, "PEER_SERVER_ID");
  if (!ENTITY_ID.test(serverId)) throw new EnvError(`PEER_SERVER_ID expects 1 to 128 of [A-Za-z0-9._:-], got "${serverId}"`);
  const identitySeed = key32(env, "PEER_PRIVATE_KEY");
  key32(env, "PEER_SERVER_KEY");
  const serverKey = env.PEER_SERVER_KEY as string;
  const transportName = env.PEER_TRANSPORT === undefined || env.PEER_TRANSPORT === "" ? undefined : env.PEER_TRANSPORT;
  if (transportName !== undefined && transportName !== "websocket-first" && transportName !== "http-only") throw new EnvError(`PEER_TRANSPORT expects websocket-first or http-only, got "${transportName}"`);
  // The two transport scenarios fix the transport; a PEER_TRANSPORT that says otherwise is a runner bug.
  const fixed = scenario === "http-only" || scenario === "websocket-first" ? scenario : undefined;
  if (fixed && transportName !== undefined && transportName !== fixed) throw new EnvError(`PEER_TRANSPORT is "${transportName}" but PEER_SCENARIO ${scenario} runs ${fixed}`);
  const transport: TransportPreference = (fixed ?? transportName ?? "websocket-first") === "http-only" ? "HTTP_ONLY" : "WEBSOCKET_FIRST";
  const config: DriverConfig = { scenario: scenario as Scenario, baseUrl, entityId, identitySeed, serverId, serverKey, transport, timeoutMs: 30_000 };
  if (env.PEER_TIMEOUT_MS !== undefined && env.PEER_TIMEOUT_MS !== "") config.timeoutMs = positiveInteger(env, "PEER_TIMEOUT_MS", 3_600_000);
  if (env.PEER_CAPABILITIES !== undefined && env.PEER_CAPABILITIES !== "") {
    const names = env.PEER_CAPABILITIES.split(",");
    const bad = names.find((name) => !CAPABILITY_NAME.test(name));
    if (bad !== undefined) throw new EnvError(`PEER_CAPABILITIES expects comma-separated capability names, got "${bad}"`);
    config.capabilities = names;
  }
  if (scenario === "large") config.payloadBytes = positiveInteger(env, "PEER_PAYLOAD_BYTES", 64 * 1024 * 1024);
  if (scenario === "resume") config.messages = positiveInteger(env, "PEER_MESSAGES", 100_000);
  if (scenario === "heartbeat") config.durationMs = positiveInteger(env, "PEER_DURATION_MS", 3_600_000);
  return config;
}

/** The scenario did not complete; the message says why. */
class ScenarioFailed extends Error {}

const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

/** One TASK_REQUEST echo; the TASK_RESPONSE must carry the params back unchanged (PP-DLV-009). */
async function echo(client: PeerClient, config: DriverConfig, io: DriverIo, params: Record<string, unknown>, label: string): Promise<void> {
  const bytes = Buffer.byteLength(JSON.stringify(params));
  io.stderr(`request ${label} action=echo bytes=${bytes}`);
  const result = await client.request(config.serverId, "echo", params);
  if (!isDeepStrictEqual(result, params)) throw new ScenarioFailed(`response ${label}: the echo result differs from the params sent`);
  io.stderr(`response ${label} status=ok`);
}

async function runScenario(client: PeerClient, config: DriverConfig, io: DriverIo): Promise<void> {
  switch (config.scenario) {
    case "echo":
    case "http-only":
    case "websocket-first":
      return echo(client, config, io, { scenario: config.scenario, text: "hello" }, "1/1");
    case "large":
      // Printable ASCII, so that the JSON payload is at least payloadBytes long.
      return echo(client, config, io, { scenario: "large", data: "x".repeat(config.payloadBytes as number) }, "1/1");
    case "resume": {
      const total = config.messages as number;
      for (let n = 1; n <= total; n++) await echo(client, config, io, { scenario: "resume", n }, `${n}/${total}`);
      return;
    }
    case "heartbeat": {
      const until = Date.now() + (config.durationMs as number);
      while (Date.now() < until) {
        await sleep(Math.min(100, until - Date.now()));
        if (!client.connected) throw new ScenarioFailed("the connection ended during the heartbeat scenario");
      }
      io.stderr(`stayed connected duration_ms=${config.durationMs}`);
      return;
    }
    case "receive":
      return reflectUntilBye(client, io);
  }
}

/**
 * receive: every PEER_MESSAGE the client delivers to the application goes back to its sender, so
 * that the runner sees on the wire what was delivered, how often and in which order (PP-DLV-003,
 * PP-DLV-005, PP-CHK-004). The scenario ends when the server ends the session with BYE.
 *
 * It reads the client's inbox, not its "message" events: the inbox holds what arrived before this
 * runs, and a server may route messages right behind READY, in the same read of the socket, so
 * that the client delivers them before `connect` has returned.
 */
async function reflectUntilBye(client: PeerClient, io: DriverIo): Promise<void> {
  let ended: Error | undefined;
  client.once("closed", (reason: Error) => {
    ended = reason;
  });
  // The inbox, not the "message" event: it holds what arrived before this loop started.
  for await (const message of client.messages()) {
    if (message.type !== "PEER_MESSAGE") continue;
    const content = (message.payload as { content?: unknown }).content;
    io.stderr(`delivered message_id=${message.message_id} from=${message.sender_id}`);
    client.send(message.sender_id, { reflects: message.message_id, content });
  }
  if (!ended?.message.startsWith("server ended the session")) throw new ScenarioFailed(`the connection ended before the server's BYE${ended ? `: ${ended.message}` : ""}`);
  io.stderr("server ended the session with BYE");
}

/** Runs one scenario; resolves with the exit status. */
export async function main(env: Record<string, string | undefined> = process.env, io: DriverIo = { stderr: (line) => process.stderr.write(`${line}\n`) }): Promise<number> {
  if (io.argv?.includes("--help")) {
    io.stderr(USAGE);
    return EXIT_COMPLETED;
  }
  let config: DriverConfig;
  try {
    config = parseDriverEnv(env);
  } catch (error) {
    if (!(error instanceof EnvError)) throw error;
    io.stderr(`peer-client-driver: ${error.message} (run peer-client-driver --help for the contract)`);
    return EXIT_CANNOT_RUN;
  }
  io.stderr(`start scenario=${config.scenario} entity=${config.entityId} server=${config.serverId} url=${config.baseUrl} transport=${config.transport.toLowerCase().replace("_", "-")}`);
  const options: PeerClientOptions = {
    url: config.baseUrl,
    entityId: config.entityId,
    identitySeed: config.identitySeed,
    serverId: config.serverId,
    serverIdentityKey: config.serverKey,
    transport: config.transport,
    ...(config.capabilities ? { capabilities: config.capabilities } : {}),
    // Only the resume scenario keeps a session across a dropped connection; elsewhere a drop fails the case.
    reconnect: config.scenario === "resume" ? { enabled: true } : { enabled: false },
  };
  let client: PeerClient | undefined;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ScenarioFailed(`PEER_TIMEOUT_MS (${config.timeoutMs} ms) passed`)), config.timeoutMs);
  });
  try {
    client = await Promise.race([PeerClient.connect(options), deadline]);
    const connected = client;
    io.stderr(`connected transport=${connected.transportInUse} session=${connected.sessionId ?? "-"}`);
    connected.on("reconnecting", ({ attempt, delayMs }: { attempt: number; delayMs: number }) => io.stderr(`reconnecting attempt=${attempt} delay_ms=${delayMs}`));
    connected.on("resumed", (sessionId: string) => io.stderr(`resumed session=${sessionId} transport=${connected.transportInUse}`));
    connected.on("resume-refused", (status: string) => io.stderr(`resume refused status=${status}; new handshake`));
    connected.on("remote-error", (error: { code: string; message: string }) => io.stderr(`remote error code=${error.code} message=${JSON.stringify(error.message)}`));
    connected.on("error", (error: Error) => io.stderr(`protocol error ${error.message}`));
    await Promise.race([runScenario(connected, config, io), deadline]);
    await connected.close(); // BYE (PP-SES-015)
    io.stderr("bye");
    io.stderr("done exit=0");
    return EXIT_COMPLETED;
  } catch (error) {
    const code = (error as { code?: string }).code;
    io.stderr(`failed${code ? ` code=${code}` : ""}: ${(error as Error).message}`);
    io.stderr("done exit=1");
    return EXIT_REFUSED;
  } finally {
    clearTimeout(timer);
    if (client) await client.close();
  }
}

// Run as `node dist/reference/src/cli/peer-client-driver.js` or `tsx reference/src/cli/peer-client-driver.ts` (not through bin/, which calls main itself).
const invokedDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href;
if (invokedDirectly) {
  main(process.env, { stderr: (line) => process.stderr.write(`${line}\n`), argv: process.argv.slice(2) }).then((code) => {
    process.exitCode = code;
  });
}
