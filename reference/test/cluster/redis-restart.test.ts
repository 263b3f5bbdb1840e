/**
 * A cluster whose Redis crashes and comes back (issue 16, "Redis down"): two nodes on one Redis
 * with an append-only file; Redis is SIGKILLed and started again on the same port and directory.
 *
 * While it is down, what needs Redis (a new handshake's nonce check, PP-RPL-002 across nodes; a
 * resume's compare-and-set, PP-SES-007; a message for another node's entity, PP-DLV-001) is
 * answered with INTERNAL_ERROR, retryable (the registry row: "the endpoint failed", close 1011);
 * nothing crashes and discovery is still served. Once Redis is back the nodes reconnect by
 * themselves, and what Redis held before the crash (the AOF) is still the cluster's: sessions
 * confirmed before it resume on either node.
 *
 * The nodes are child processes (../support/node-process.ts): "not a crash" is then that the process still
 * runs, and the node is the one operators start, flags and all.
 */
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, expect, test } from "vitest";
import type { Session } from "../../src/session/session.ts";
import type { RawPeer } from "../support/raw-peer.ts";
import { describeWithRedis, redisForSuite } from "../support/redis-server.ts";
import { describeFrame, exchange, expectRegistryUnreachable, PeerPool } from "./cluster-peers.ts";
import { discovery, nodeProcessesPerFile, type NodeProcess } from "../support/node-process.ts";

const SERVER_ID = "restart-cluster";
/** How long the nodes may take to reconnect: ioredis retries at most every second. */
const RECONNECT_DEADLINE_MS = 20_000;

const startNode = nodeProcessesPerFile();

describeWithRedis("two nodes while their Redis is killed and restarted (AOF)", () => {
  const redis = redisForSuite({ appendOnly: true, appendFsync: "always" });
  const pool = new PeerPool();
  let node1: NodeProcess;
  let node2: NodeProcess;
  let inspector: Redis;
  const identitySeed = randomBytes(32).toString("hex");

  /** Sessions made before the crash, kept across the tests of this file. */
  const before: Record<string, { peer: RawPeer; session: Session }> = {};

  beforeAll(async () => {
    const args = (nodeId: string) => ["--port", "0", "--redis", redis().url, "--identity-seed", identitySeed, "--server-id", SERVER_ID, "--node-id", nodeId];
    [node1, node2] = await Promise.all([startNode(args("restart-n1")), startNode(args("restart-n2"))]);
    inspector = new Redis(redis().url, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: (attempt) => Math.min(100 * attempt, 500) });
    inspector.on("error", () => {}); // expected while Redis is down; the commands below report their own failures
    await inspector.connect();
  });

  afterAll(() => {
    pool.closeAll();
    inspector?.disconnect();
  });

  test("before the crash: sessions on both nodes exchange messages across them", async () => {
    expect(node1.nodeIds).toEqual(["restart-n1"]);
    expect(node2.nodeIds).toEqual(["restart-n2"]);
    expect(node1.serverId).toBe(SERVER_ID);
    expect(node2.serverId).toBe(SERVER_ID);
    before.alice = await pool.session(node1.wsUrl, "alice");
    before.bob = await pool.session(node2.wsUrl, "bob");
    await exchange(before.alice.peer, before.bob.peer, { n: 1, from: "alice" });
    await exchange(before.bob.peer, before.alice.peer, { n: 2, from: "bob" });
    // carol's connection goes away: her session waits in Redis for a resume (PP-SES-011).
    before.carol = await pool.session(node1.wsUrl, "carol");
    before.carol.peer.close();
    expect(await before.carol.peer.closed()).toBe(1005);
    expect(await inspector.get("pp:owner:alice")).toBe("restart-n1");
    expect(await inspector.get("pp:owner:bob")).toBe("restart-n2");
    expect(await inspector.hget(`pp:sess:${before.carol.session.id}`, "entity")).toBe("carol");
  }, 60_000);

  test("while Redis is down: a handshake, a resume and a cross-node message get INTERNAL_ERROR, retryable; the nodes keep running and serving discovery", async () => {
    await redis().kill();
    expect(redis().running).toBe(false);

    // A new handshake: HANDSHAKE_INIT's nonce cannot be checked cluster-wide (PP-RPL-002).
    const { peer: newcomer, answer: initAnswer } = await pool.initOnly(node1.wsUrl, "dave");
    expect(initAnswer.type, describeFrame(initAnswer)).toBe("ERROR");
    expectRegistryUnreachable(initAnswer.payload);
    expect(await newcomer.closed()).toBe(1011); // the registry row of INTERNAL_ERROR: close 1011

    // A resume on the node that does not hold the session: it cannot read it (spec §8).
    const { peer: resumer, answer: resumeAnswer } = await pool.resume(node2.wsUrl, SERVER_ID, before.carol!.session);
    expect(resumeAnswer.type).toBe("SESSION_RESUME_ACK");
    expect((resumeAnswer.payload as { status: string }).status, describeFrame(resumeAnswer)).toBe("ERROR");
    expectRegistryUnreachable((resumeAnswer.payload as { error: unknown }).error);
    expect(resumer.closeCode).toBeUndefined(); // a refused resume leaves the connection open for another try (PP-SES-019)

    // A resume on the node that holds the session: the rotation is decided in Redis (PP-SES-007).
    const { answer: localResume } = await pool.resume(node1.wsUrl, SERVER_ID, before.alice!.session);
    expect((localResume.payload as { status: string }).status, describeFrame(localResume)).toBe("ERROR");
    expectRegistryUnreachable((localResume.payload as { error: unknown }).error);

    // A message for an entity on the other node: it cannot be stored, so it is not acknowledged (PP-DLV-001).
    const alice = before.alice!.peer;
    const sent = alice.sendRecord("PEER_MESSAGE", { content: "while Redis is down" }, { recipient_id: "bob" });
    const error = await alice.nextOfType("ERROR", 10_000);
    expectRegistryUnreachable(error.payload, sent.message_id);
    expect(await alice.closed(5_000)).toBe(1011);
    expect(before.bob!.peer.frames.filter((f) => f.type === "PEER_MESSAGE")).toEqual([]);

    for (const node of [node1, node2]) {
      expect(node.running, node.output()).toBe(true);
      const answer = await discovery(node.url);
      expect(answer.status).toBe(200);
      expect(answer.body.server_id).toBe(SERVER_ID);
    }
  }, 60_000);

  test("after Redis is back: the nodes reconnect by themselves; new handshakes, resumes of sessions from before the crash on either node, and cross-node messages work", async () => {
    await redis().restart();
    expect(redis().running).toBe(true);

    // The AOF kept what was acknowledged before the crash.
    expect(await inspector.hget(`pp:sess:${before.carol!.session.id}`, "entity")).toBe("carol");
    expect(await inspector.hget(`pp:sess:${before.alice!.session.id}`, "owner")).toBe("restart-n1");

    // New handshakes on both nodes, once each has reconnected: retried until they are.
    const erin = await handshakeOnceReconnected(node1, "erin");
    const frank = await handshakeOnceReconnected(node2, "frank");
    expect(await inspector.get("pp:owner:erin")).toBe("restart-n1");
    expect(await inspector.get("pp:owner:frank")).toBe("restart-n2");

    // carol was on node 1 before the crash and resumes on node 2.
    const carol = await pool.resume(node2.wsUrl, SERVER_ID, before.carol!.session);
    expect((carol.answer.payload as { status: string }).status, describeFrame(carol.answer)).toBe("READY");
    expect(await inspector.hget(`pp:sess:${before.carol!.session.id}`, "owner")).toBe("restart-n2");
    await exchange(carol.peer, erin.peer, { n: 3, from: "carol on node 2" });
    await exchange(erin.peer, carol.peer, { n: 4, from: "erin on node 1" });

    // alice's connection closed while Redis was down; her session resumes on the other node.
    const alice = await pool.resume(node2.wsUrl, SERVER_ID, before.alice!.session);
    expect((alice.answer.payload as { status: string }).status, describeFrame(alice.answer)).toBe("READY");
    expect(await inspector.get("pp:owner:alice")).toBe("restart-n2");
    await exchange(alice.peer, erin.peer, { n: 5, from: "alice on node 2" });

    // bob's connection stayed open through the crash; it still reaches node 1.
    await exchange(before.bob!.peer, erin.peer, { n: 6, from: "bob, connected throughout" });
    await exchange(erin.peer, frank.peer, { n: 7, from: "erin to frank" });

    for (const node of [node1, node2]) expect(node.running, node.output()).toBe(true);
  }, 90_000);

  /** A handshake on `node`, retried while it answers INTERNAL_ERROR (not yet reconnected); fails on any other answer. */
  async function handshakeOnceReconnected(node: NodeProcess, entity: string): Promise<{ peer: RawPeer; session: Session }> {
    const deadline = Date.now() + RECONNECT_DEADLINE_MS;
    for (;;) {
      const { peer, answer } = await pool.initOnly(node.wsUrl, `${entity}-probe`);
      peer.close();
      if (answer.type === "HANDSHAKE_INIT_ACK") return pool.session(node.wsUrl, entity);
      expect(answer.type, describeFrame(answer)).toBe("ERROR");
      expectRegistryUnreachable(answer.payload);
      if (Date.now() > deadline) throw new Error(`${node.nodeIds[0]} still answers INTERNAL_ERROR ${RECONNECT_DEADLINE_MS} ms after Redis restarted:\n${node.output()}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
});
