/**
 * A network partition between one node and Redis (issue 16): node 1 reaches Redis through a TCP
 * proxy (../support/tcp-proxy.ts), node 2 directly. Cutting the proxy leaves node 1 without its
 * registry: what needs Redis there (a handshake's cluster-wide nonce check, PP-RPL-002; a resume,
 * spec §8; a message for another node's entity, PP-DLV-001) is answered INTERNAL_ERROR, retryable,
 * while node 2 keeps serving. Healing it, node 1 recovers by itself.
 *
 * Both ways a partition looks: "reset" (the node sees its connections die at once) and
 * "blackhole" (every byte is dropped and only the node's own timeout, ioredis' commandTimeout of
 * 2 s, ends the wait: a partition must end in an error, not a hang).
 *
 * The nodes are child processes (../support/node-process.ts): that node 1 does not crash is that it still runs.
 */
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, expect, test } from "vitest";
import type { Session } from "../../src/session/session.ts";
import type { RawPeer } from "../support/raw-peer.ts";
import { describeWithRedis, redisForSuite } from "../support/redis-server.ts";
import { startTcpProxy, type CutMode, type TcpProxy } from "../support/tcp-proxy.ts";
import { describeFrame, exchange, expectRegistryUnreachable, PeerPool } from "./cluster-peers.ts";
import { discovery, nodeProcessesPerFile, type NodeProcess } from "../support/node-process.ts";

const SERVER_ID = "partition-cluster";
/** ioredis' commandTimeout in the registry (registry.ts): what bounds a wait in a blackhole. */
const COMMAND_TIMEOUT_MS = 2000;
/** How long node 1 may take to reconnect after heal(): ioredis retries at most every second. */
const RECOVERY_DEADLINE_MS = 20_000;

const startNode = nodeProcessesPerFile();

describeWithRedis("a partition between node 1 and Redis, node 2 unaffected", () => {
  const redis = redisForSuite();
  const pool = new PeerPool();
  let proxy: TcpProxy;
  let node1: NodeProcess;
  let node2: NodeProcess;
  let inspector: Redis;

  beforeAll(async () => {
    proxy = await startTcpProxy({ port: redis().port });
    const identitySeed = randomBytes(32).toString("hex");
    const args = (url: string, nodeId: string) => ["--port", "0", "--redis", url, "--identity-seed", identitySeed, "--server-id", SERVER_ID, "--node-id", nodeId];
    [node1, node2] = await Promise.all([startNode(args(proxy.url, "part-n1")), startNode(args(redis().url, "part-n2"))]);
    inspector = new Redis(redis().url);
  });

  afterAll(async () => {
    pool.closeAll();
    inspector?.disconnect();
    await proxy?.close();
  });

  test.for<CutMode>(["reset", "blackhole"])(
    "cut(%s): node 1 answers INTERNAL_ERROR for what needs Redis, node 2 keeps working; after heal() node 1 recovers",
    { timeout: 120_000 },
    async (mode, { annotate }) => {
      const name = (entity: string) => `${entity}-${mode}`;
      // Before the cut: a session on each node, messages both ways; sessions waiting to be resumed.
      const alice = await pool.session(node1.wsUrl, name("alice"));
      const bob = await pool.session(node2.wsUrl, name("bob"));
      await exchange(alice.peer, bob.peer, { before: "cut", from: "node 1" });
      await exchange(bob.peer, alice.peer, { before: "cut", from: "node 2" });
      const carol = await disconnected(node2, name("carol")); // resumed on node 1 during the cut, then after heal()
      const erin = await disconnected(node2, name("erin")); // resumed on node 2 during the cut

      proxy.cut(mode);
      expect(proxy.cutMode).toBe(mode);

      // Node 1, a new handshake: its nonce cannot be checked cluster-wide (PP-RPL-002).
      const handshake = await pool.initOnly(node1.wsUrl, name("dave"));
      expect(handshake.answer.type, describeFrame(handshake.answer)).toBe("ERROR");
      expectRegistryUnreachable(handshake.answer.payload);
      expect(await handshake.peer.closed()).toBe(1011);
      await annotate(`cut(${mode}): node 1 answered HANDSHAKE_INIT with INTERNAL_ERROR after ${handshake.waitedMs} ms`);
      if (mode === "blackhole") {
        // Nothing tells the node but its own timeout; and the wait ends (PP-ERR: an answer, not a hang).
        expect(handshake.waitedMs).toBeGreaterThanOrEqual(COMMAND_TIMEOUT_MS - 100);
        expect(handshake.waitedMs).toBeLessThan(COMMAND_TIMEOUT_MS * 5);
      }

      // Node 1, a resume of a session it does not hold: it cannot read it (spec §8).
      const resumeOn1 = await pool.resume(node1.wsUrl, SERVER_ID, carol);
      expect((resumeOn1.answer.payload as { status: string }).status, describeFrame(resumeOn1.answer)).toBe("ERROR");
      expectRegistryUnreachable((resumeOn1.answer.payload as { error: unknown }).error);

      // Node 1, a message for an entity on node 2: not stored, so not acknowledged (PP-DLV-001).
      const sent = alice.peer.sendRecord("PEER_MESSAGE", { content: "during the cut" }, { recipient_id: name("bob") });
      const refused = await alice.peer.nextOfType("ERROR", 15_000);
      expectRegistryUnreachable(refused.payload, sent.message_id);
      expect(await alice.peer.closed(5_000)).toBe(1011);

      // Node 2 keeps working: handshakes, resumes, messages between its sessions.
      const frank = await pool.session(node2.wsUrl, name("frank"));
      await exchange(bob.peer, frank.peer, { during: "cut", on: "node 2" });
      const erinBack = await pool.resume(node2.wsUrl, SERVER_ID, erin);
      expect((erinBack.answer.payload as { status: string }).status, describeFrame(erinBack.answer)).toBe("READY");
      await exchange(erinBack.peer, frank.peer, { during: "cut", resumed: "on node 2" });
      expect(node1.running, node1.output()).toBe(true);
      expect((await discovery(node1.url)).body.server_id).toBe(SERVER_ID);

      proxy.heal();
      expect(proxy.cutMode).toBeUndefined();

      // Node 1 recovers by itself: a handshake, retried while it still answers INTERNAL_ERROR.
      const started = performance.now();
      const henry = await handshakeOnceRecovered(node1, name("henry"));
      await annotate(`heal() after cut(${mode}): node 1 completed a handshake again after ${Math.round(performance.now() - started)} ms`);
      expect(await inspector.get(`pp:owner:${name("henry")}`)).toBe("part-n1");
      await exchange(henry.peer, bob.peer, { after: "heal", from: "node 1" });
      await exchange(bob.peer, henry.peer, { after: "heal", from: "node 2" });
      // A resume on node 1 of a session from node 2, and of its own (alice's connection closed during the cut).
      const carolBack = await pool.resume(node1.wsUrl, SERVER_ID, carol);
      expect((carolBack.answer.payload as { status: string }).status, describeFrame(carolBack.answer)).toBe("READY");
      expect(await inspector.get(`pp:owner:${name("carol")}`)).toBe("part-n1");
      await exchange(carolBack.peer, frank.peer, { after: "heal", resumed: "on node 1" });
      const aliceBack = await pool.resume(node1.wsUrl, SERVER_ID, alice.session);
      expect((aliceBack.answer.payload as { status: string }).status, describeFrame(aliceBack.answer)).toBe("READY");
      await exchange(aliceBack.peer, bob.peer, { after: "heal", resumed: "alice on node 1" });
      expect(node1.running, node1.output()).toBe(true);

    },
  );

  // A message for an entity on node 1, sent on node 2 while node 1 is cut off, is appended to the
  // entity's stream and acknowledged to its sender; its publication on pp:node:part-n1 is lost. Node 1
  // reads its entities' streams again once its channel is back, and a resume on node 1 reads the
  // stream too.
  test("a message acknowledged to its sender while the recipient's node was cut off reaches the recipient after heal(): on its open connection, or on a resume on that node (PP-DLV-001, PP-SES-010)", async () => {
    const bob = await pool.session(node2.wsUrl, "bob-stream");
    const grace = await pool.session(node1.wsUrl, "grace-stream"); // stays connected to node 1
    const ivy = await pool.session(node1.wsUrl, "ivy-stream"); // resumes on node 1 after heal()
    await exchange(bob.peer, grace.peer, { before: "cut" });
    // Grace's ACK took that message out of her stream before the cut (what an ACK during the cut
    // would leave there is re-sent and de-duplicated, PP-DLV-003; not this test's point).
    await expect.poll(() => inspector.xlen("pp:q:grace-stream"), { timeout: 5_000 }).toBe(0);

    proxy.cut("reset");
    const sent: Record<string, string> = {};
    for (const recipient of ["grace-stream", "ivy-stream"]) {
      const record = bob.peer.sendRecord("PEER_MESSAGE", { content: `for ${recipient}, sent during the cut` }, { recipient_id: recipient });
      let acked = -1;
      while (acked < record.seq) acked = ((await bob.peer.nextOfType("ACK", 10_000)).payload as { ack: number }).ack;
      expect(acked).toBe(record.seq); // stored in the recipient's stream, so acknowledged (PP-DLV-001)
      expect(await inspector.xlen(`pp:q:${recipient}`)).toBe(1);
      sent[recipient] = record.message_id;
    }
    proxy.heal();
    await handshakeOnceRecovered(node1, "after-heal-stream");

    ivy.peer.close();
    expect(await ivy.peer.closed()).toBe(1005);
    const ivyBack = await pool.resume(node1.wsUrl, SERVER_ID, ivy.session);
    expect((ivyBack.answer.payload as { status: string }).status, describeFrame(ivyBack.answer)).toBe("READY");

    const outcome = async (peer: RawPeer, recipient: string) => {
      try {
        const received = await peer.nextOfType("PEER_MESSAGE", 5_000);
        return `${received.message_id} ${JSON.stringify(received.payload)}`;
      } catch (error) {
        return `nothing (${(error as Error).message}); still in pp:q: ${await inspector.xlen(`pp:q:${recipient}`)}`;
      }
    };
    expect({ grace: await outcome(grace.peer, "grace-stream"), ivy: await outcome(ivyBack.peer, "ivy-stream") }).toEqual({
      grace: `${sent["grace-stream"]} ${JSON.stringify({ content: "for grace-stream, sent during the cut" })}`,
      ivy: `${sent["ivy-stream"]} ${JSON.stringify({ content: "for ivy-stream, sent during the cut" })}`,
    });
  }, 60_000);

  /** A confirmed session on `node` whose connection is then closed: it waits for a resume (PP-SES-011). */
  async function disconnected(node: NodeProcess, entity: string): Promise<Session> {
    const { peer, session } = await pool.session(node.wsUrl, entity);
    peer.close();
    expect(await peer.closed()).toBe(1005);
    return session;
  }

  async function handshakeOnceRecovered(node: NodeProcess, entity: string): Promise<{ peer: RawPeer; session: Session }> {
    const deadline = Date.now() + RECOVERY_DEADLINE_MS;
    for (;;) {
      const { peer, answer } = await pool.initOnly(node.wsUrl, `${entity}-probe-${Date.now()}`);
      peer.close();
      if (answer.type === "HANDSHAKE_INIT_ACK") return pool.session(node.wsUrl, entity);
      expect(answer.type, describeFrame(answer)).toBe("ERROR");
      expectRegistryUnreachable(answer.payload);
      if (Date.now() > deadline) throw new Error(`${node.nodeIds[0]} still answers INTERNAL_ERROR ${RECOVERY_DEADLINE_MS} ms after heal():\n${node.output()}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
});
