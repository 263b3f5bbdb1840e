/**
 * Model-based property (fast-check): random programs of send / disconnect / reconnect-and-resume /
 * pause between two clients through the server. Whatever the schedule, every message sent is
 * delivered exactly once and in order (PP-DLV-003, PP-DLV-005, PP-SES-010). A failure shrinks to
 * the shortest program that loses, duplicates or reorders a message.
 */
import fc from "fast-check";
import { afterAll, beforeAll, expect, test } from "vitest";
import { PeerClient, type ReceivedMessage } from "../src/client/peer-client.ts";
import { PeerServer } from "../src/server/server.ts";
import { createMemoryPair } from "../src/transport/memory-transport.ts";

type Name = "alice" | "bob";
const other = (name: Name): Name => (name === "alice" ? "bob" : "alice");

interface Model {
  sent: Record<Name, number>;
}

interface Real {
  clients: Record<Name, PeerClient>;
  received: Record<Name, ReceivedMessage[]>;
}

/** Sends a burst; optionally drops a connection in the same tick, so records are lost in flight. */
class SendCommand implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly from: Name,
    readonly count: number,
    readonly size: number,
    readonly dropInFlight: Name | null,
  ) {}
  check(): boolean {
    return true;
  }
  async run(model: Model, real: Real): Promise<void> {
    for (let i = 0; i < this.count; i++) real.clients[this.from].send(other(this.from), { n: model.sent[this.from]++, pad: "p".repeat(this.size) });
    if (this.dropInFlight) real.clients[this.dropInFlight].dropConnection();
  }
  toString(): string {
    return `${this.from}.send(${this.count} x ${this.size} B)${this.dropInFlight ? ` + ${this.dropInFlight}.dropConnection() in flight` : ""}`;
  }
}

class DropCommand implements fc.AsyncCommand<Model, Real> {
  constructor(readonly who: Name) {}
  check(): boolean {
    return true;
  }
  async run(_model: Model, real: Real): Promise<void> {
    real.clients[this.who].dropConnection();
  }
  toString(): string {
    return `${this.who}.dropConnection()`;
  }
}

class PauseCommand implements fc.AsyncCommand<Model, Real> {
  constructor(readonly ms: number) {}
  check(): boolean {
    return true;
  }
  async run(): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, this.ms));
  }
  toString(): string {
    return `pause(${this.ms} ms)`;
  }
}

let server: PeerServer;

beforeAll(async () => {
  // A small chunk size so that some messages travel chunked; a generous rate limit.
  server = await PeerServer.start({ logLevel: "silent", limits: { max_chunk_bytes: 512, rate_limit_per_minute: 1_000_000, retransmit_buffer: 4096 } });
});

afterAll(async () => {
  await server.close();
});

async function connect(entityId: string, received: ReceivedMessage[]): Promise<PeerClient> {
  const client = await PeerClient.connect({
    url: server.url,
    entityId,
    reconnect: { initialDelayMs: 1, maxDelayMs: 20 },
    openTransport: async (_kind, resumeSessionId) => {
      const [clientEnd, serverEnd] = createMemoryPair();
      server.accept(serverEnd, resumeSessionId ? { resumeSessionId } : {});
      return clientEnd;
    },
  });
  client.on("message", (message: ReceivedMessage) => received.push(message));
  return client;
}

const commands = fc.commands(
  [
    fc
      .tuple(fc.constantFrom<Name>("alice", "bob"), fc.integer({ min: 1, max: 8 }), fc.constantFrom(1, 100, 2000), fc.constantFrom<Name | null>(null, "alice", "bob"))
      .map(([from, count, size, drop]) => new SendCommand(from, count, size, drop)),
    fc.constantFrom<Name>("alice", "bob").map((who) => new DropCommand(who)),
    fc.integer({ min: 0, max: 5 }).map((ms) => new PauseCommand(ms)),
  ],
  { maxCommands: 25 },
);

test("every message is delivered exactly once and in order, whatever the disconnects", async () => {
  let run = 0;
  await fc.assert(
    fc.asyncProperty(commands, async (program) => {
      run++;
      // Fresh entity names per run so that runs do not share sessions.
      const names = { alice: `alice-${run}`, bob: `bob-${run}` };
      const received: Record<Name, ReceivedMessage[]> = { alice: [], bob: [] };
      const clients = { alice: await connect(names.alice, received.alice), bob: await connect(names.bob, received.bob) };
      // SendCommand addresses the other client by its short name; map it to this run's entity ids.
      const real: Real = {
        clients: {
          alice: Object.assign(Object.create(clients.alice), { send: (_to: string, content: unknown) => clients.alice.send(names.bob, content) }),
          bob: Object.assign(Object.create(clients.bob), { send: (_to: string, content: unknown) => clients.bob.send(names.alice, content) }),
        },
        received,
      };
      const model: Model = { sent: { alice: 0, bob: 0 } };
      try {
        await fc.asyncModelRun(() => ({ model, real }), program);
        await expect.poll(() => received.bob.length + received.alice.length, { timeout: 10_000, interval: 5 }).toBe(model.sent.alice + model.sent.bob);
        await new Promise((resolve) => setTimeout(resolve, 20)); // any duplicate would arrive now
        for (const receiver of ["alice", "bob"] as const) {
          const numbers = received[receiver].map((m) => (m.payload as { content: { n: number } }).content.n);
          expect(numbers, `${receiver} received`).toEqual([...Array(model.sent[other(receiver)]).keys()]);
        }
      } finally {
        await clients.alice.close();
        await clients.bob.close();
      }
    }),
    { numRuns: 25 },
  );
}, 120_000);
