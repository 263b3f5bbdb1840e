/**
 * Cluster: two nodes of one deployment (TARGET and --peer-target). The spec knows one server; a
 * deployment that spreads it over several processes is still that one server, so everything the
 * spec asks of a server holds across its nodes: one server_id and identity key (§4.4), sessions that
 * resume on any node (§8), routing between entities on different nodes (§9), the replay caches
 * (§14), identity bindings (§4.6) and broadcasts (§15). Each case does on one node what the other
 * must then know, and is built so that two nodes sharing nothing fail it; every case is skipped
 * without a second node.
 */
import { suite, type CaseContext } from "../case.ts";
import { CaseFailure } from "../failure.ts";
import { ProbePeer, type Envelope, type Inbound, type ResumeTicket } from "../probe/peer.ts";
import { TokenRefused } from "../probe/token-source.ts";
import { b64u } from "../probe/wire.ts";
import { expectHandshakeRejected, jcsEqual, keepsServing } from "./support.ts";

type Node = "target" | "peer";
type Message = Inbound & { kind: "message" };

/** How a report names a node. */
const NODE_NAME: Record<Node, string> = { target: "node 1 (TARGET)", peer: "node 2 (--peer-target)" };
const other = (node: Node): Node => (node === "target" ? "peer" : "target");

/** The entity whose session a resume case moves between nodes. */
const OWNER = 0;

const status = (payload: Record<string, unknown>) => String(payload.status);
const errorCode = (payload: Record<string, unknown>) => String((payload.error as Record<string, unknown> | undefined)?.code);
const outcome = (payload: Record<string, unknown>) => `status ${status(payload)}${payload.error ? ` ${errorCode(payload)}` : ""}`;

/** Closes the session's connection and waits until the node has seen it go: the session is resumable, disconnected. */
async function dropped(ctx: CaseContext, probe: ProbePeer): Promise<ResumeTicket> {
  const ticket = probe.ticket();
  probe.close();
  await probe.expectClose(undefined, { timeoutMs: 2000 }).catch(() => undefined);
  await ctx.sleep(100);
  return ticket;
}

/** SESSION_RESUME of `ticket` on a new connection to `node`, as the session's owner (spec §8). */
async function resumeOn(ctx: CaseContext, node: Node, ticket: ResumeTicket, options: Parameters<ProbePeer["buildResume"]>[1] = {}) {
  const probe = await ctx.probe({ node, identityIndex: OWNER, query: { session_id: ticket.sessionId }, label: `owner@${node === "target" ? "n1" : "n2"}` });
  const request = probe.buildResume(ticket, options);
  probe.sendJson(request);
  const payload = await probe.receiveResumeAck();
  return { probe, payload, request };
}

/** Sends `count` PEER_MESSAGEs from `from` to `to`'s entity, each with its index, and returns them as sent. */
function sendMessages(from: ProbePeer, to: ProbePeer, count: number, tag: string): Envelope[] {
  return Array.from({ length: count }, (_, i) => from.sendRecord("PEER_MESSAGE", { content: { tag, i } }, { envelope: { recipient_id: to.identity.entityId } }));
}

/** Reads the next PEER_MESSAGE and checks it is `sent` (its message_id, sender_id and content), as routed by PP-DLV-006. */
async function expectRouted(ctx: CaseContext, reader: ProbePeer, sent: Envelope, from: ProbePeer, what: string): Promise<Message> {
  const item = await reader.expectMessage("PEER_MESSAGE", { describe: `${what}: PEER_MESSAGE ${String(sent.message_id)} from ${from.identity.entityId}` });
  ctx.check(item.envelope.message_id === sent.message_id, `${what}: message_id ${String(sent.message_id)}, unchanged and in order (PP-DLV-006, PP-DLV-005)`, `message_id ${String(item.envelope.message_id)}`);
  ctx.check(item.envelope.sender_id === from.identity.entityId, `${what}: sender_id ${from.identity.entityId}, unchanged (PP-DLV-006)`, `sender_id ${String(item.envelope.sender_id)}`);
  ctx.check(item.envelope.recipient_id === reader.identity.entityId, `${what}: recipient_id ${reader.identity.entityId}`, `recipient_id ${String(item.envelope.recipient_id)}`);
  return item;
}

async function subscribe(probe: ProbePeer, channels: string[]): Promise<string[]> {
  probe.sendJson(probe.plaintextEnvelope("SUBSCRIBE", { channels }, { recipientId: null }));
  const item = await probe.expectMessage("SUBSCRIBED", { describe: `SUBSCRIBED for ${JSON.stringify(channels)}` });
  return (ProbePeer.payloadOf(item).channels as string[] | undefined) ?? [];
}

/** The discovery members a client reads to talk to the server: one logical server shows the same on every node. */
const SERVER_MEMBERS = ["server_id", "identity_key", "versions", "capabilities", "limits"] as const;

export const clusterCases = suite("cluster", "Cluster (two nodes of one deployment)", [
  {
    id: "one-server",
    title: "Two nodes of one deployment are one server: the same server_id, identity key, versions, capabilities and limits in discovery, and each handshakes and answers echo as that server",
    requirements: ["PP-TRN-016", "PP-TRN-015", "PP-DLV-009"],
    level: "MUST",
    needsPeerTarget: true,
    async run(ctx) {
      const nodes: [Node, Record<string, unknown> | null][] = [
        ["target", ctx.target.discovery],
        ["peer", ctx.peerTarget?.discovery ?? null],
      ];
      for (const [node, document] of nodes) ctx.check(document !== null, `the discovery document of ${NODE_NAME[node]} (PP-TRN-014)`, (node === "target" ? ctx.target : ctx.peerTarget)?.discoveryError ?? "none");
      const [first, second] = nodes.map(([, d]) => d as Record<string, unknown>) as [Record<string, unknown>, Record<string, unknown>];
      // A session negotiated on one node is resumed on the other (§8): its server id, identity key,
      // capabilities and limits are the server's, not a node's (PP-TRN-015: the limits advertised are
      // the ones enforced, and a session moves between the nodes that advertise them).
      for (const member of SERVER_MEMBERS) {
        const sorted = (v: unknown) => (Array.isArray(v) ? [...v].sort() : v);
        ctx.check(jcsEqual(sorted(first[member]) ?? null, sorted(second[member]) ?? null), `the same ${member} in the discovery documents of both nodes: one logical server`, `${NODE_NAME.target}: ${JSON.stringify(first[member])}; ${NODE_NAME.peer}: ${JSON.stringify(second[member])}`);
      }
      // Each node handshakes as the server discovery names: its HANDSHAKE_INIT_ACK comes from
      // server_id with the discovery identity key (PP-TRN-016), and it answers echo sent to server_id.
      for (const node of ["target", "peer"] as const) {
        const probe = await ctx.session({ node, serverId: String(first.server_id) });
        const ack = probe.initAck as Envelope;
        ctx.check(ack.sender_id === first.server_id, `HANDSHAKE_INIT_ACK of ${NODE_NAME[node]} from server_id ${String(first.server_id)}`, `sender_id ${String(ack.sender_id)}`);
        const key = probe.serverIdentity ? b64u(probe.serverIdentity) : "none";
        ctx.check(key === first.identity_key, `the identity key of ${NODE_NAME[node]}'s HANDSHAKE_INIT_ACK equal to the discovery identity_key ${String(first.identity_key)} (PP-TRN-016)`, key);
        const { response } = await probe.echo({ node });
        ctx.check(jcsEqual(ProbePeer.payloadOf(response).result, { node }), `echo answered by ${NODE_NAME[node]} as server_id ${String(first.server_id)} (PP-DLV-009)`, JSON.stringify(ProbePeer.payloadOf(response).result));
        probe.close();
      }
    },
  },
  {
    id: "resume-on-other-node",
    title: "A session made on node 1 resumes on node 2: READY with fresh keys, the unacknowledged messages re-sent in order and the acknowledged ones not, and records flow on node 2 both ways",
    requirements: ["PP-SES-010", "PP-SES-008", "PP-SES-013", "PP-SES-011", "PP-DLV-001", "PP-DLV-006"],
    level: "MUST",
    requires: ["resume"],
    needsPeerTarget: true,
    async run(ctx) {
      const owner = await ctx.session({ identityIndex: OWNER, label: "owner@n1" });
      const sender = await ctx.session({ identityIndex: OWNER + 1, label: "sender@n1" });
      // Traffic on node 1: an echo, acknowledged, then five messages from the sender.
      await owner.echo({ before: "the move" });
      owner.ack();
      const count = 5;
      const acknowledged = 2;
      const sent = sendMessages(sender, owner, count, "before");
      await sender.expectAck(sent.at(-1)?.seq as number);
      const received: Message[] = [];
      for (const [i, message] of sent.entries()) received.push(await expectRouted(ctx, owner, message, sender, `message ${i + 1} of ${count} on node 1`));
      for (const [i, item] of received.entries()) ctx.check(jcsEqual(ProbePeer.payloadOf(item).content, { tag: "before", i }), `message ${i + 1} with content ${JSON.stringify({ tag: "before", i })}`, JSON.stringify(ProbePeer.payloadOf(item).content));
      // The owner acknowledges the first two and loses the connection: three stay unacknowledged.
      const coveredSeq = received[acknowledged - 1]?.envelope.seq as number;
      owner.ack(coveredSeq);
      const ticket = await dropped(ctx, owner);
      const { probe: moved, payload } = await resumeOn(ctx, "peer", ticket, { lastRxSeq: coveredSeq });
      ctx.check(status(payload) === "READY", "SESSION_RESUME_ACK status READY on node 2 for a session made on node 1", outcome(payload));
      const ackEnvelope = moved.history.find((i): i is Message => i.kind === "message" && i.envelope.type === "SESSION_RESUME_ACK");
      ctx.check(ackEnvelope?.envelope.session_id === ticket.sessionId, `SESSION_RESUME_ACK for session ${ticket.sessionId}: the same session (PP-SES-013)`, String(ackEnvelope?.envelope.session_id));
      // PP-SES-010: the three not covered, re-sent by node 2 under the fresh keys from seq 0 (the
      // probe decrypts them with the keys of this resume and checks the numbering, PP-SES-008).
      for (let i = acknowledged; i < count; i++) {
        const item = await expectRouted(ctx, moved, sent[i] as Envelope, sender, `unacknowledged message ${i + 1} of ${count} re-sent on node 2`);
        ctx.check(jcsEqual(ProbePeer.payloadOf(item).content, { tag: "before", i }), `re-sent message ${i + 1} with content ${JSON.stringify({ tag: "before", i })}`, JSON.stringify(ProbePeer.payloadOf(item).content));
      }
      moved.ack();
      await moved.expectSilence(500, `no re-send of the echo answer or of messages 1 to ${acknowledged}: the ACK and last_rx_seq cover them (PP-SES-010)`);
      // Records flow on node 2: an echo, and a message from the sender still on node 1.
      const { response } = await moved.echo({ after: "the move" });
      ctx.check(jcsEqual(ProbePeer.payloadOf(response).result, { after: "the move" }), "echo answered on node 2 after the resume", JSON.stringify(ProbePeer.payloadOf(response).result));
      const [later] = sendMessages(sender, moved, 1, "after") as [Envelope];
      await sender.expectAck(later.seq as number);
      const item = await expectRouted(ctx, moved, later, sender, "a message sent on node 1 after the resume, routed to the session now on node 2");
      ctx.check(jcsEqual(ProbePeer.payloadOf(item).content, { tag: "after", i: 0 }), `content ${JSON.stringify({ tag: "after", i: 0 })}`, JSON.stringify(ProbePeer.payloadOf(item).content));
      moved.ack();
      await moved.expectSilence(300, "each message delivered once");
    },
  },
  {
    id: "older-connection-closed-across-nodes",
    title: "A resume on node 2 closes the session's live connection on node 1 with close code 1000, and messages go to the new connection",
    requirements: ["PP-SES-014", "PP-DLV-006"],
    level: "MUST",
    requires: ["resume"],
    needsPeerTarget: true,
    async run(ctx) {
      const old = await ctx.session({ identityIndex: OWNER, label: "owner@n1" });
      await old.echo({ on: "node 1" });
      const { probe: moved, payload } = await resumeOn(ctx, "peer", old.ticket());
      ctx.check(status(payload) === "READY", "SESSION_RESUME_ACK status READY on node 2 while the session's connection on node 1 is open", outcome(payload));
      await old.expectClose(1000);
      const sender = await ctx.session({ identityIndex: OWNER + 1, label: "sender@n1" });
      const [message] = sendMessages(sender, moved, 1, "to the new connection") as [Envelope];
      await expectRouted(ctx, moved, message, sender, "a message from node 1 to the session, on its new connection on node 2");
    },
  },
  {
    id: "route-across-nodes",
    title: "A message from an entity on node 1 reaches an entity on node 2, and one back, each once, in order, with message_id and sender_id unchanged, acknowledged to its sender",
    requirements: ["PP-DLV-006", "PP-DLV-003", "PP-DLV-005", "PP-DLV-012"],
    level: "MUST",
    needsPeerTarget: true,
    async run(ctx) {
      const alice = await ctx.session({ label: "alice@n1" });
      const bob = await ctx.session({ node: "peer", label: "bob@n2" });
      for (const [from, to, direction] of [
        [alice, bob, "node 1 to node 2"],
        [bob, alice, "node 2 to node 1"],
      ] as const) {
        const count = 3;
        const sent = sendMessages(from, to, count, direction);
        // PP-DLV-012: acknowledged once queued for the recipient on the other node.
        await from.expectAck(sent.at(-1)?.seq as number);
        for (const [i, message] of sent.entries()) {
          const item = await expectRouted(ctx, to, message, from, `message ${i + 1} of ${count} from ${direction}`);
          ctx.check(jcsEqual(ProbePeer.payloadOf(item).content, { tag: direction, i }), `content ${JSON.stringify({ tag: direction, i })}`, JSON.stringify(ProbePeer.payloadOf(item).content));
        }
        to.ack();
        await to.expectSilence(500, `each message from ${direction} delivered once (PP-DLV-003)`);
      }
    },
  },
  {
    id: "queued-for-disconnected-across-nodes",
    title: "Messages sent on node 1 to an entity whose session on node 2 is disconnected are acknowledged, queued, and delivered when it resumes on node 1",
    requirements: ["PP-DLV-008", "PP-DLV-012", "PP-SES-010"],
    level: "MUST",
    requires: ["resume"],
    needsPeerTarget: true,
    async run(ctx) {
      const recipient = await ctx.session({ node: "peer", identityIndex: OWNER, label: "owner@n2" });
      const ticket = await dropped(ctx, recipient);
      const sender = await ctx.session({ identityIndex: OWNER + 1, label: "sender@n1" });
      const count = 3;
      const sent = sendMessages(sender, recipient, count, "queued");
      await sender.expectAck(sent.at(-1)?.seq as number);
      const { probe: back, payload } = await resumeOn(ctx, "target", ticket);
      ctx.check(status(payload) === "READY", "SESSION_RESUME_ACK status READY on node 1 for a session made on node 2", outcome(payload));
      for (const [i, message] of sent.entries()) {
        const item = await expectRouted(ctx, back, message, sender, `queued message ${i + 1} of ${count}, delivered after the resume`);
        ctx.check(jcsEqual(ProbePeer.payloadOf(item).content, { tag: "queued", i }), `content ${JSON.stringify({ tag: "queued", i })}`, JSON.stringify(ProbePeer.payloadOf(item).content));
      }
      back.ack();
      await back.expectSilence(500, "each queued message delivered once (PP-DLV-003)");
    },
  },
  {
    id: "init-nonce-replayed-on-other-node",
    title: "Node 2 rejects a HANDSHAKE_INIT whose nonce node 1 has seen with REPLAY_DETECTED, and handshakes with a fresh nonce",
    requirements: ["PP-RPL-002", "PP-ERR-004"],
    level: "MUST",
    needsPeerTarget: true,
    async run(ctx) {
      const first = await ctx.probe({ label: "n1" });
      const init = first.buildInit();
      first.sendHandshake(init);
      await first.receiveInitAck();
      first.close();
      // The same INIT byte for byte on node 2; then its nonce in a fresh INIT of another identity.
      const exact = await ctx.probe({ node: "peer", label: "replay@n2" });
      exact.sendJson(init);
      await exact.expectError("REPLAY_DETECTED", { checkConnection: false });
      const sameNonce = await ctx.probe({ node: "peer", label: "nonce@n2" });
      sameNonce.sendHandshake(sameNonce.buildInit({ nonce: Buffer.from(String(init.nonce), "base64url") }));
      await sameNonce.expectError("REPLAY_DETECTED", { checkConnection: false });
      // The neighbour: a fresh nonce handshakes on the same connection of node 2 (PP-ERR-004).
      await keepsServing(sameNonce);
    },
  },
  {
    id: "resume-replayed-on-other-node",
    title: "Node 2 answers a SESSION_RESUME that node 1 accepted, sent again unchanged, with status ERROR and REPLAY_DETECTED, and resumes the session with the rotated secret",
    requirements: ["PP-RPL-006", "PP-RPL-009", "PP-RPL-010", "PP-SES-007"],
    level: "MUST",
    requires: ["resume"],
    needsPeerTarget: true,
    async run(ctx) {
      const ticket = await dropped(ctx, await ctx.session({ identityIndex: OWNER, label: "owner@n1" }));
      const once = await resumeOn(ctx, "target", ticket);
      ctx.check(status(once.payload) === "READY", "SESSION_RESUME_ACK status READY on node 1", outcome(once.payload));
      const rotated = await dropped(ctx, once.probe);
      const again = await ctx.probe({ node: "peer", identityIndex: OWNER, query: { session_id: ticket.sessionId }, label: "replay@n2" });
      again.sendJson(once.request);
      const payload = ProbePeer.payloadOf(await again.expectMessage("SESSION_RESUME_ACK", { describe: "SESSION_RESUME_ACK status ERROR with REPLAY_DETECTED from node 2 (PP-RPL-009)" }));
      ctx.check(status(payload) === "ERROR" && errorCode(payload) === "REPLAY_DETECTED", "SESSION_RESUME_ACK status ERROR with REPLAY_DETECTED on node 2 for the resume node 1 accepted: the resume nonces are the server's, not a node's (PP-RPL-006, PP-RPL-010)", outcome(payload));
      again.close();
      // The neighbour: the session, untouched by the replay, resumes on node 2 with the rotated secret (PP-SES-007).
      const next = await resumeOn(ctx, "peer", rotated);
      ctx.check(status(next.payload) === "READY", "SESSION_RESUME_ACK status READY on node 2 with the secret rotated by node 1's resume (PP-SES-007)", outcome(next.payload));
      await next.probe.echo({ after: "a replay on node 2" });
    },
  },
  {
    id: "used-secret-on-other-node",
    title: "Node 2 refuses a resume with the resumption secret that a resume on node 1 used up, with a fresh nonce, and accepts the rotated secret",
    requirements: ["PP-SES-007"],
    level: "MUST",
    requires: ["resume"],
    needsPeerTarget: true,
    async run(ctx) {
      const original = await dropped(ctx, await ctx.session({ identityIndex: OWNER, label: "owner@n1" }));
      const once = await resumeOn(ctx, "target", original);
      ctx.check(status(once.payload) === "READY", "SESSION_RESUME_ACK status READY on node 1", outcome(once.payload));
      const rotated = await dropped(ctx, once.probe);
      const stale = await resumeOn(ctx, "peer", original);
      ctx.check(status(stale.payload) !== "READY", "no resume on node 2 with the secret node 1's resume used up (PP-SES-007)", "status READY");
      stale.probe.close();
      const next = await resumeOn(ctx, "peer", rotated);
      ctx.check(status(next.payload) === "READY", "SESSION_RESUME_ACK status READY on node 2 with the rotated secret", outcome(next.payload));
    },
  },
  {
    id: "resume-raced-on-both-nodes",
    title: "Two resumes of one session with one secret, sent to both nodes at once, resume it once; the winner's rotated secret then resumes on the other node",
    requirements: ["PP-SES-007", "PP-SES-014"],
    level: "MUST",
    requires: ["resume"],
    needsPeerTarget: true,
    async run(ctx) {
      const ticket = await dropped(ctx, await ctx.session({ identityIndex: OWNER, label: "owner@n1" }));
      const nodes = ["target", "peer"] as const;
      const probes = await Promise.all(nodes.map((node) => ctx.probe({ node, identityIndex: OWNER, query: { session_id: ticket.sessionId }, label: `race@${node === "target" ? "n1" : "n2"}` })));
      // Two valid binders under one secret, with distinct nonces: only the secret's single use (PP-SES-007) can refuse one.
      const requests = probes.map((p) => p.buildResume(ticket));
      probes.forEach((p, i) => p.sendJson(requests[i]));
      const answers = await Promise.all(probes.map((p) => p.receiveResumeAck()));
      const ready = answers.flatMap((a, i) => (status(a) === "READY" ? [i] : []));
      ctx.check(ready.length === 1, "exactly one READY: a resumption secret resumes at most once across the nodes (PP-SES-007), and the first resume to arrive succeeds", answers.map((a, i) => `${NODE_NAME[nodes[i] as Node]}: ${outcome(a)}`).join("; "));
      const winner = ready[0] as number;
      const winnerProbe = probes[winner] as ProbePeer;
      await winnerProbe.echo({ won: NODE_NAME[nodes[winner] as Node] });
      const rotated = await dropped(ctx, winnerProbe);
      const next = await resumeOn(ctx, other(nodes[winner] as Node), rotated);
      ctx.check(status(next.payload) === "READY", `SESSION_RESUME_ACK status READY on ${NODE_NAME[other(nodes[winner] as Node)]} with the secret rotated by the winning resume`, outcome(next.payload));
      await next.probe.echo({ after: "the race" });
    },
  },
  {
    id: "bye-ends-session-on-every-node",
    title: "A session ended with BYE on node 2 resumes on neither node",
    requirements: ["PP-SES-015"],
    level: "MUST",
    requires: ["resume"],
    needsPeerTarget: true,
    async run(ctx) {
      const ticket = await dropped(ctx, await ctx.session({ identityIndex: OWNER, label: "owner@n1" }));
      // The neighbour first: node 2 knows the session and resumes it…
      const moved = await resumeOn(ctx, "peer", ticket);
      ctx.check(status(moved.payload) === "READY", "SESSION_RESUME_ACK status READY on node 2 for a session made on node 1", outcome(moved.payload));
      const rotated = moved.probe.ticket();
      // …and ends it with BYE.
      moved.probe.sendRecord("BYE", { reason: "done" });
      await moved.probe.expectClose(undefined, { timeoutMs: 5000 }).catch(() => undefined);
      moved.probe.close();
      await ctx.sleep(100);
      for (const node of ["target", "peer"] as const) {
        const after = await resumeOn(ctx, node, rotated);
        ctx.check(status(after.payload) !== "READY", `no resume on ${NODE_NAME[node]} of a session ended with BYE on node 2 (PP-SES-015)`, "status READY");
        after.probe.close();
      }
    },
  },
  {
    id: "ended-session-unknown-on-other-node",
    title: "Node 1 answers a message to an entity whose session ended with BYE on node 2 with UNKNOWN_RECIPIENT, after routing to it while it lived",
    requirements: ["PP-DLV-017", "PP-DLV-006"],
    level: "MUST",
    needsPeerTarget: true,
    async run(ctx) {
      const sender = await ctx.session({ label: "sender@n1" });
      const gone = await ctx.session({ node: "peer", label: "gone@n2" });
      // The neighbour: while its session lives, node 1 routes to it.
      const [first] = sendMessages(sender, gone, 1, "alive") as [Envelope];
      await expectRouted(ctx, gone, first, sender, "a message from node 1 while the session on node 2 lives");
      gone.ack();
      gone.sendRecord("BYE", { reason: "done" });
      await gone.expectClose(undefined, { timeoutMs: 5000 }).catch(() => undefined);
      gone.close();
      await ctx.sleep(200);
      const [late] = sendMessages(sender, gone, 1, "too late") as [Envelope];
      await sender.expectError("UNKNOWN_RECIPIENT", { relatedMessageId: String(late.message_id), checkConnection: false });
    },
  },
  {
    id: "identity-binding-across-nodes",
    title: "An entity id bound to an identity key by a handshake on node 1 is refused on node 2 with another key, and accepted there with its own",
    requirements: ["PP-AUTH-010", "PP-AUTH-011"],
    level: "MUST",
    needsPeerTarget: true,
    async run(ctx) {
      const first = await ctx.session({ identityIndex: 0, label: "owner@n1" });
      first.close();
      // Another key under the bound entity id, on node 2. With tokens, the impostor presents a token of
      // its own entity id and key (issued by node 2), so that only the binding (PP-AUTH-011) can refuse it.
      let impostor: ProbePeer;
      try {
        impostor = await ctx.probe({ node: "peer", identityIndex: 1, entityId: first.identity.entityId, label: "impostor@n2" });
      } catch (error) {
        if (error instanceof TokenRefused && error.code === "AUTHENTICATION_FAILED") {
          ctx.note(`node 2 would not issue a token for entity ${first.identity.entityId} with another identity key: the binding made on node 1 holds at node 2's token endpoint`);
          await ownKeyAccepted(ctx, first);
          return;
        }
        throw error;
      }
      await expectHandshakeRejected(impostor, {}, "AUTHENTICATION_FAILED", `entity ${first.identity.entityId} is bound, by a handshake on node 1, to another identity key`);
      // The neighbour, last so that a binding it makes on node 2 cannot stand in for node 1's.
      await ownKeyAccepted(ctx, first);
    },
  },
  {
    id: "broadcast-on-both-nodes",
    title: "A BROADCAST published on either node reaches the subscribers of its channel on both nodes, as exactly one EVENT each with the same event_id",
    requirements: ["PP-EVT-003", "PP-EVT-005", "PP-EVT-008"],
    level: "MUST",
    requires: ["events"],
    needsPeerTarget: true,
    async run(ctx) {
      const subscribers = [await ctx.probe({ endpoint: "events", label: "sub@n1" }), await ctx.probe({ endpoint: "events", node: "peer", label: "sub@n2" })] as const;
      const channel = `conf.cluster.${subscribers[0].newId("c").slice(2, 12)}`;
      for (const s of subscribers) {
        const channels = await subscribe(s, [channel]);
        ctx.check(channels.includes(channel), `SUBSCRIBED listing ${channel}`, JSON.stringify(channels));
      }
      const eventIds: string[] = [];
      for (const node of ["target", "peer"] as const) {
        const publisher = await ctx.session({ node, label: `pub@${node === "target" ? "n1" : "n2"}` });
        const content = { published_on: node, n: eventIds.length };
        const sent = publisher.sendRecord("BROADCAST", { channel, content });
        await publisher.expectAck(sent.seq as number);
        const ids: string[] = [];
        for (const [i, s] of subscribers.entries()) {
          const where = `the subscriber on ${NODE_NAME[i === 0 ? "target" : "peer"]}, for the BROADCAST on ${NODE_NAME[node]}`;
          const item = await s.expectMessage("EVENT", { describe: `an EVENT on ${channel} for ${where} (PP-EVT-003)` });
          const payload = ProbePeer.payloadOf(item);
          ctx.check(payload.channel === channel, `${where}: channel ${channel}`, String(payload.channel));
          ctx.check(jcsEqual(payload.content, content), `${where}: content ${JSON.stringify(content)}`, JSON.stringify(payload.content));
          ctx.check(payload.publisher_id === publisher.identity.entityId, `${where}: publisher_id ${publisher.identity.entityId} (PP-EVT-005)`, String(payload.publisher_id));
          ctx.check(typeof payload.event_id === "string", `${where}: an event_id`, JSON.stringify(payload.event_id));
          ids.push(payload.event_id as string);
        }
        // One BROADCAST is one EVENT (PP-EVT-003): both nodes deliver the same event, under one event_id.
        ctx.check(ids[0] === ids[1], `one event_id for the one BROADCAST on both nodes (PP-EVT-003: one EVENT per BROADCAST)`, `${NODE_NAME.target}: ${ids[0]}; ${NODE_NAME.peer}: ${ids[1]}`);
        for (const s of subscribers) await s.expectSilence(300, `exactly one EVENT per subscriber for the BROADCAST on ${NODE_NAME[node]}`);
        eventIds.push(ids[0] as string);
        publisher.close();
      }
      ctx.check(eventIds[0] !== eventIds[1], "two BROADCASTs, two event_ids (unique per event)", `both ${eventIds[0]}`);
    },
  },
]);

/** The bound entity with its own key completes a handshake on node 2: the refusal was about the key (PP-AUTH-011). */
async function ownKeyAccepted(ctx: CaseContext, first: ProbePeer): Promise<void> {
  const owner = await ctx.probe({ node: "peer", identity: first.identity, label: "owner@n2" });
  try {
    await owner.handshake();
  } catch (error) {
    if (error instanceof CaseFailure) throw new CaseFailure([`${error.expected.join(" or ")}: the entity with the key it is bound to completes a handshake on node 2`], error.actual);
    throw error;
  }
}
