/**
 * `peer-conformance client --listen PORT` (issue 14, after the Autobahn suite's test server): for a
 * client the runner cannot start (a browser, a phone, an embedded device). The client connects by
 * itself and asks which case to run through a control endpoint the runner serves on
 * 127.0.0.1:PORT (spec §18.1):
 *
 *   GET  /cases   200 {"cases": [{"id", "title", "scenario", "env"}]}: the selected cases, in order
 *                 (`env` is the case's extra variables: PEER_MESSAGES, PEER_PAYLOAD_BYTES, …)
 *   GET  /next    held until the runner has the next case's responder listening, then
 *                 200 {"id", "title", "env"}: `env` holds the same variables as --command's
 *                 environment (PEER_URL, PEER_SCENARIO, PEER_ENTITY_ID, PEER_PRIVATE_KEY, …);
 *                 204 when no case is left
 *   POST /result  {"id", "status", "log"?}: the case `id` ended with exit status `status` (0, 1 or
 *                 2, as --command's driver exits) and, optionally, the lines it would print on
 *                 stderr; 204, or 400 for a malformed body, 409 for a case that is not in progress
 *
 * A client loops: GET /next, run the case, POST /result, until GET /next answers 204. The runner
 * cannot stop it: when a case is over it closes that case's responder and waits a moment for the
 * report. A client that does not ask for a case within `waitMs` ends the run (ClientGone).
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { redactSecrets } from "../probe/redact.ts";
import type { ClientCase } from "./client-case.ts";
import type { CaseClient, ClientExit } from "./client-process.ts";
import { ClientGone, type ClientAttachment } from "./client-runner.ts";

/** The exit statuses of the contract (spec §18.1): completed, did not complete, could not run. */
const STATUSES = [0, 1, 2] as const;
/** A report is a few lines of log, not a transcript. */
const MAX_BODY_BYTES = 64 * 1024;
/** The end of the log that is kept, as for a driver's stderr. */
const MAX_LOG_CHARS = 4000;

export const LISTEN_DEFAULTS = {
  /** How long the runner waits for the client to ask for a case (GET /next), the first included. */
  waitMs: 120_000,
  /** How long the runner waits for a report after the case is over, and for the last GET /next. */
  graceMs: 5000,
} as const;

export interface ListeningClient extends ClientAttachment {
  /** http://127.0.0.1:PORT, the control endpoint's base URL. */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

interface CaseInProgress {
  id: string;
  handedOutAt: number;
  report?: ClientExit;
  resolve(exit: ClientExit): void;
}

function send(response: ServerResponse, status: number, body?: unknown): void {
  if (body === undefined) {
    response.writeHead(status).end();
    return;
  }
  const text = JSON.stringify(body);
  response.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) }).end(text);
}

function readBody(request: IncomingMessage): Promise<string | null> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    request.on("end", () => resolve(size > MAX_BODY_BYTES ? null : Buffer.concat(chunks).toString("utf8")));
    request.on("error", () => resolve(null));
  });
}

/** A report as POST /result sends it, or why it is not one. */
function parseReport(text: string): { id: string; status: number; log: string } | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return "the body is not JSON";
  }
  const report = value as { id?: unknown; status?: unknown; log?: unknown };
  if (typeof report !== "object" || report === null || Array.isArray(report)) return 'expected {"id", "status", "log"?}';
  if (typeof report.id !== "string") return '"id" must be the case id GET /next gave';
  if (!(STATUSES as readonly unknown[]).includes(report.status)) return `"status" must be 0 (completed), 1 (did not complete) or 2 (could not run), got ${JSON.stringify(report.status)}`;
  if (report.log !== undefined && typeof report.log !== "string") return '"log" must be a string when present';
  return { id: report.id, status: report.status as number, log: report.log ?? "" };
}

export async function listenForClient(options: { port: number; waitMs?: number; graceMs?: number }): Promise<ListeningClient> {
  const waitMs = options.waitMs ?? LISTEN_DEFAULTS.waitMs;
  const graceMs = options.graceMs ?? LISTEN_DEFAULTS.graceMs;
  let cases: readonly ClientCase[] = [];
  let ended = false;
  let current: CaseInProgress | undefined;
  /** GET /next requests held until a case is ready. */
  const asking: ServerResponse[] = [];
  /** Called when a GET /next arrives while the runner waits for one. */
  let onAsk: (() => void) | undefined;
  /** Called when a GET /next arrives after the last case (end waits for it). */
  let onLastAsk: (() => void) | undefined;

  const http = createServer((request, response) => {
    const path = new URL(request.url ?? "/", "http://127.0.0.1").pathname;
    const route = `${request.method ?? "GET"} ${path}`;
    if (route === "GET /cases") {
      send(response, 200, { cases: cases.map((c) => ({ id: c.id, title: c.title, scenario: c.scenario, env: { ...c.env } })) });
    } else if (route === "GET /next") {
      if (ended) {
        send(response, 204);
        return onLastAsk?.();
      }
      asking.push(response);
      // A client that hangs up while it waits is not asked to run anything.
      response.on("close", () => {
        const at = asking.indexOf(response);
        if (at >= 0) asking.splice(at, 1);
      });
      onAsk?.();
    } else if (route === "POST /result") {
      void readBody(request).then((text) => {
        if (text === null) return send(response, 400, { error: `the body is larger than ${MAX_BODY_BYTES} bytes` });
        const report = parseReport(text);
        if (typeof report === "string") return send(response, 400, { error: report });
        if (!current || current.id !== report.id || current.report) {
          return send(response, 409, { error: `case ${report.id} is not in progress${current && !current.report ? ` (the case in progress is ${current.id})` : ""}` });
        }
        current.report = { code: report.status, signal: null, stderr: redactSecrets(report.log.slice(-MAX_LOG_CHARS).trim()), ms: Date.now() - current.handedOutAt, reported: true };
        current.resolve(current.report);
        send(response, 204);
      });
    } else if (["/cases", "/next", "/result"].includes(path)) {
      send(response, 405, { error: `${request.method} ${path} is not served: GET /cases, GET /next, POST /result` });
    } else {
      send(response, 404, { error: `${path} is not served: GET /cases, GET /next, POST /result` });
    }
  });
  await new Promise<void>((resolve, reject) => {
    http.once("error", reject);
    http.listen(options.port, "127.0.0.1", () => resolve());
  });
  const port = (http.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;

  /** The next GET /next, or null when none comes within `ms`. */
  const nextAsk = (ms: number) =>
    new Promise<ServerResponse | null>((resolve) => {
      const take = () => {
        const response = asking.shift();
        if (!response) return false;
        clearTimeout(timer);
        onAsk = undefined;
        resolve(response);
        return true;
      };
      const timer = setTimeout(() => {
        onAsk = undefined;
        resolve(null);
      }, ms);
      if (!take()) onAsk = take;
    });

  return {
    label: `a listening client (${url})`,
    url,
    port,
    begin(selected) {
      cases = selected;
    },
    async start(c, env): Promise<CaseClient> {
      current = undefined;
      const response = await nextAsk(waitMs);
      if (!response) throw new ClientGone(`the listening client did not ask for case ${c.id} (GET ${url}/next) within ${waitMs} ms; a listening client runs GET /next, the case, POST /result, until GET /next answers 204`);
      let resolve!: (exit: ClientExit) => void;
      const exited = new Promise<ClientExit>((done) => (resolve = done));
      const inProgress: CaseInProgress = { id: c.id, handedOutAt: Date.now(), resolve };
      current = inProgress;
      send(response, 200, { id: c.id, title: c.title, env });
      return {
        exited,
        ending: "the client reports how the case ended (POST /result)",
        get running() {
          return inProgress.report === undefined;
        },
        async stop(ms = graceMs) {
          let timer: NodeJS.Timeout | undefined;
          const report = await Promise.race([exited, new Promise<undefined>((done) => (timer = setTimeout(() => done(undefined), ms)))]);
          clearTimeout(timer);
          return report;
        },
      };
    },
    async end() {
      current = undefined;
      ended = true;
      const waiting = asking.splice(0);
      for (const response of waiting) send(response, 204);
      // The client learns that the run is over from its next GET /next, which may be on its way.
      if (waiting.length === 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, graceMs);
          onLastAsk = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        onLastAsk = undefined;
      }
    },
    async close() {
      ended = true;
      for (const response of asking.splice(0)) send(response, 204);
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
