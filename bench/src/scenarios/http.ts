/**
 * HTTP endpoints under autocannon (spec §4.3-§4.5): discovery, the token challenge and verify
 * steps, and the fallback binding's message send and poll. Bodies that must be fresh (signed
 * challenges, sealed records with increasing seq) are prepared before the run and handed out in
 * order by `setupRequest`, so each request is valid exactly once.
 *
 * Raw baseline: the same method, request body size and response body size against a raw
 * `node:http` server, with the same connections and request count or duration.
 */
import autocannon from "autocannon";
import { ed25519Sign, type Ed25519Identity } from "../../../reference/src/crypto.ts";
import { fromBase64Url, toBase64Url } from "../../../reference/src/encoding.ts";
import type { Envelope } from "../../../reference/src/envelope.ts";
import { InitiatorHandshake } from "../../../reference/src/handshake/initiator.ts";
import { signatureInput } from "../../../reference/src/key-schedule.ts";
import type { RecordEnvelope } from "../../../reference/src/record.ts";
import { Session } from "../../../reference/src/session/session.ts";
import { LatencyHistogram } from "../histogram.ts";
import { benchIdentity } from "../load/identity.ts";
import { mergeResults } from "../load/tally.ts";
import { formatBytes, referenceSize } from "../options.ts";
import { CpuMeter } from "../proc.ts";
import type { Sample } from "../report-schema.ts";
import { measurement, progress, toSample, type Endpoint, type Scenario, type ScenarioContext } from "./scenario.ts";

interface EndpointRun {
  id: string;
  label: string;
  method: "GET" | "POST";
  path: string;
  /** Fresh bodies, used once each; the run is bounded by `amount`. */
  bodies?: string[];
  /** Per-connection body lists instead (one HTTP session per connection, seq in order). */
  perConnection?: string[][];
  amount?: number;
  responseBytes: number;
  requestBytes: number;
}

async function postJson(url: string, body: unknown): Promise<{ status: number; json: unknown }> {
  const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body), redirect: "error" });
  return { status: response.status, json: await response.json() };
}

/** The six handshake steps over POST /peers/handshake (spec §4.3), with the reference initiator. */
async function httpSession(baseUrl: string, entityId: string, identity: Ed25519Identity): Promise<Session> {
  const handshake = new InitiatorHandshake({ identity, entityId, versions: ["1.2"], capabilities: ["http", "chunking"], now: Date.now });
  const step = async (message: unknown) => {
    const { status, json } = await postJson(`${baseUrl}/peers/handshake`, message);
    if (status !== 200) throw new Error(`HTTP handshake step answered ${status}: ${JSON.stringify(json).slice(0, 200)}`);
    return json as Envelope;
  };
  const ack = await step(handshake.start());
  const established = await step(handshake.onInitAck(ack));
  const result = handshake.onEstablished(established);
  const session = new Session(result, { now: Date.now, dedupeMemory: 64 });
  const ready = await step(session.seal("SESSION_CONFIRM", { handshake_hash: toBase64Url(result.keys.handshakeHash) }, { recipient_id: result.peerId }));
  session.open(ready as RecordEnvelope, "window");
  return session;
}

async function bodyBytes(url: string, init?: RequestInit): Promise<number> {
  const response = await fetch(url, { ...init, redirect: "error" });
  return Buffer.byteLength(await response.text());
}

/** Signed token challenges, fetched and signed ahead (each is single-use, PP-RPL-007). */
async function verifyBodies(baseUrl: string, entityId: string, identity: Ed25519Identity, count: number): Promise<string[]> {
  const publicKey = toBase64Url(identity.publicKey);
  const bodies: string[] = [];
  const fetchOne = async () => {
    const response = await fetch(`${baseUrl}/auth/token?entity_id=${entityId}&public_key=${publicKey}`, { redirect: "error" });
    const { challenge } = (await response.json()) as { challenge: string };
    const signature = toBase64Url(ed25519Sign(identity, signatureInput("token challenge", fromBase64Url(challenge) as Buffer)));
    bodies.push(JSON.stringify({ entity_id: entityId, public_key: publicKey, challenge, signature }));
  };
  for (let i = 0; i < count; i += 32) await Promise.all(Array.from({ length: Math.min(32, count - i) }, fetchOne));
  return bodies;
}

function runAutocannon(context: ScenarioContext, endpoint: Endpoint, run: EndpointRun, raw: boolean): Promise<Sample> {
  const { options } = context;
  const histogram = new LatencyHistogram();
  let ok = 0;
  let non2xx = 0;
  const statuses = new Map<number, number>();
  const bodies = run.bodies;
  const lanes = run.perConnection;
  let next = 0;
  let lane = 0;
  const rawBody = run.requestBytes > 0 ? `{"d":"${"x".repeat(Math.max(0, run.requestBytes - 8))}"}` : undefined;
  const path = raw ? `/http?size=${run.responseBytes}` : run.path;
  const request = {
    method: run.method,
    path,
    headers: { "content-type": "application/json" },
    ...(bodies && !raw ? { setupRequest: (r: { body?: string | Buffer }) => ({ ...r, body: bodies[next++ % bodies.length] }) } : raw && rawBody ? { body: rawBody } : {}),
  };
  const meter = new CpuMeter(endpoint.pid);
  // autocannon reports whole seconds; the window is timed here, from the start to the last answer.
  const started = performance.now();
  let lastAnswer = started;
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: endpoint.url,
        connections: options.connections,
        pipelining: 1,
        timeout: 10,
        ...(run.amount ? { amount: run.amount } : { duration: options.durationS }),
        requests: [request],
        // One HTTP session per connection: each connection walks its own session's records in seq order.
        ...(lanes && !raw ? { setupClient: (client: { setRequests(requests: object[]): void }) => client.setRequests((lanes[lane++ % lanes.length] as string[]).map((body) => ({ ...request, body }))) } : {}),
      },
      (error, result) => {
        if (error) return reject(error);
        const cpu = meter.read();
        const durationMs = Math.max(1, lastAnswer - started);
        const samples = [...statuses].filter(([status]) => status >= 300).map(([status, count]) => `HTTP ${status} x${count}`);
        const merged = { ...mergeResults([]), errors: non2xx + result.errors - result.timeouts, timeouts: result.timeouts, latency: histogram, errorSamples: samples, cpu: { client: cpu.client, server: cpu.server, otherPercentOfCore: cpu.otherPercentOfCore }, durationMs, workersUsed: 1, workerBusyPercent: [] };
        resolve(toSample(merged, ok, histogram, durationMs));
      },
    );
    instance.on("response", (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
      lastAnswer = performance.now();
      statuses.set(statusCode, (statuses.get(statusCode) ?? 0) + 1);
      if (statusCode >= 200 && statusCode < 300) {
        ok++;
        histogram.recordMs(responseTime);
      } else non2xx++;
    });
  });
}

export const httpScenario: Scenario = {
  name: "http",
  title: "HTTP endpoints",
  description: "autocannon against discovery (GET /peers/capabilities), token challenge (GET /auth/token) and verify (POST /auth/verify, pre-signed single-use challenges), and the fallback binding: POST /peers/message (pre-sealed records, increasing seq) and GET /peers/poll. Raw baseline: a raw node:http server answering the same method with bodies of the same sizes.",
  async run(context, outcome) {
    const { options, peer } = context;
    const entityId = "bench-http";
    const identity = benchIdentity(entityId);
    const publicKey = toBase64Url(identity.publicKey);
    const pool = options.quick ? 300 : 5_000;
    const size = Math.min(referenceSize(options), 16_384);
    outcome.notes.push(`${options.connections} connections, no pipelining; verify and send are bounded by ${pool} requests each (prepared bodies), the others by the duration. Each connection sends its own HTTP session's records, in seq order.`);
    outcome.notes.push("Latency comes from autocannon's per-response times, recorded into the bench's HDR histogram (µs resolution).");

    const content = { p: "x".repeat(size) };
    // One HTTP session per connection, with half again its share of records in case connections run unevenly.
    const perLane = Math.ceil((pool / options.connections) * 1.5);
    const lanes: string[][] = [];
    for (let k = 0; k < options.connections; k++) {
      const session = await httpSession(peer.url, `${entityId}-send-${k}`, identity);
      lanes.push(Array.from({ length: perLane }, () => JSON.stringify(session.seal("PEER_MESSAGE", { content }, { recipient_id: peer.serverId }))));
    }
    const pollSession = await httpSession(peer.url, `${entityId}-poll`, identity);
    const tokenPath = `/auth/token?entity_id=${entityId}&public_key=${publicKey}`;
    const pollPath = `/peers/poll?session_id=${encodeURIComponent(pollSession.id)}&after=-1`;
    const verify = await verifyBodies(peer.url, entityId, identity, pool + 1);
    const probeVerify = verify.pop() as string;

    const runs: EndpointRun[] = [
      { id: "http-discovery", label: "GET /peers/capabilities (discovery)", method: "GET", path: "/peers/capabilities", responseBytes: await bodyBytes(`${peer.url}/peers/capabilities`), requestBytes: 0 },
      { id: "http-token-challenge", label: "GET /auth/token (challenge)", method: "GET", path: tokenPath, responseBytes: await bodyBytes(`${peer.url}${tokenPath}`), requestBytes: 0 },
      { id: "http-token-verify", label: "POST /auth/verify (signed challenge -> EdDSA JWT)", method: "POST", path: "/auth/verify", bodies: verify, amount: verify.length, responseBytes: await bodyBytes(`${peer.url}/auth/verify`, { method: "POST", body: probeVerify, headers: { "content-type": "application/json" } }), requestBytes: probeVerify.length },
      { id: "http-message", label: `POST /peers/message (sealed PEER_MESSAGE, ${formatBytes(size)})`, method: "POST", path: "/peers/message", perConnection: lanes, amount: pool, responseBytes: 16, requestBytes: lanes[0]?.[0]?.length ?? 0 },
      { id: "http-poll", label: "GET /peers/poll (empty outbox)", method: "GET", path: pollPath, responseBytes: await bodyBytes(`${peer.url}${pollPath}`), requestBytes: 0 },
    ];
    for (const run of runs) {
      const peerSample = await runAutocannon(context, peer, run, false);
      const rawSample = await runAutocannon(context, context.raw, run, true);
      progress(context, run.label, peerSample, rawSample, " req/s");
      outcome.measurements.push(measurement(run.id, run.label, { method: run.method, path: run.path.replace(/\?.*$/, ""), connections: options.connections, requestBytes: run.requestBytes, responseBytes: run.responseBytes }, peerSample, rawSample));
    }
  },
};
