/**
 * Spec §15 (events and broadcast), with PP-TRN-006 and PP-LIM-006: subscriptions on
 * /ws/v1/events, BROADCAST records from peer sessions, EVENT delivery to subscribers only, and the
 * close of a connection that never subscribes (PP-EVT-009).
 */
import { suite, type CaseContext } from "../case.ts";
import { ProbePeer } from "../probe/peer.ts";
import { jcsEqual } from "./support.ts";

const EVENTS = ["events"];

async function subscriber(ctx: CaseContext, stepTimeoutMs?: number) {
  return ctx.probe({ endpoint: "events", ...(stepTimeoutMs !== undefined ? { stepTimeoutMs } : {}) });
}

function frame(probe: ProbePeer, type: "SUBSCRIBE" | "UNSUBSCRIBE", channels: string[]) {
  const envelope = probe.plaintextEnvelope(type, { channels }, { recipientId: null });
  probe.sendJson(envelope);
  return envelope;
}

async function subscribe(probe: ProbePeer, channels: string[]): Promise<string[]> {
  frame(probe, "SUBSCRIBE", channels);
  const item = await probe.expectMessage("SUBSCRIBED", { describe: `SUBSCRIBED for ${JSON.stringify(channels)}` });
  return (ProbePeer.payloadOf(item).channels as string[] | undefined) ?? [];
}

const channel = (probe: ProbePeer, name: string) => `conf.${name}.${probe.newId("c").slice(2, 10)}`;

export const eventCases = suite("events", "15. Events and broadcast", [
  {
    id: "subscribe",
    title: "A server answers SUBSCRIBE with SUBSCRIBED listing every channel the connection is now subscribed to",
    requirements: ["PP-EVT-001", "PP-TRN-006"],
    level: "MUST",
    requires: EVENTS,
    async run(ctx) {
      const probe = await subscriber(ctx);
      const [a, b, c] = [channel(probe, "a"), channel(probe, "b"), channel(probe, "c")];
      const first = await subscribe(probe, [a, b]);
      ctx.check(jcsEqual([...first].sort(), [a, b].sort()), `SUBSCRIBED ${JSON.stringify([a, b])}`, JSON.stringify(first));
      const second = await subscribe(probe, [c]);
      ctx.check(jcsEqual([...second].sort(), [a, b, c].sort()), `SUBSCRIBED listing every channel now subscribed ${JSON.stringify([a, b, c])}`, JSON.stringify(second));
    },
  },
  {
    id: "unsubscribe",
    title: "A server answers UNSUBSCRIBE with UNSUBSCRIBED listing the channels removed",
    requirements: ["PP-EVT-002"],
    level: "MUST",
    requires: EVENTS,
    async run(ctx) {
      const probe = await subscriber(ctx);
      const [a, b] = [channel(probe, "a"), channel(probe, "b")];
      await subscribe(probe, [a, b]);
      frame(probe, "UNSUBSCRIBE", [a]);
      const item = await probe.expectMessage("UNSUBSCRIBED");
      ctx.check(jcsEqual(ProbePeer.payloadOf(item).channels, [a]), `UNSUBSCRIBED ${JSON.stringify([a])}`, JSON.stringify(ProbePeer.payloadOf(item).channels));
    },
  },
  {
    id: "broadcast-delivered",
    title: "A server delivers a BROADCAST as one EVENT, with publisher_id, to every subscriber of its channel, and acknowledges it",
    requirements: ["PP-EVT-003", "PP-EVT-005", "PP-EVT-008"],
    level: "MUST",
    requires: EVENTS,
    async run(ctx) {
      const publisher = await ctx.session();
      const subscribers = [await subscriber(ctx), await subscriber(ctx)];
      const name = channel(publisher, "news");
      for (const s of subscribers) await subscribe(s, [name]);
      const content = { headline: "conformance", n: 1 };
      const sent = publisher.sendRecord("BROADCAST", { channel: name, content });
      await publisher.expectAck(sent.seq as number);
      for (const s of subscribers) {
        const item = await s.expectMessage("EVENT", { describe: `an EVENT on ${name}` });
        const payload = ProbePeer.payloadOf(item);
        ctx.check(payload.channel === name, `channel ${name}`, String(payload.channel));
        ctx.check(jcsEqual(payload.content, content), `content ${JSON.stringify(content)}`, JSON.stringify(payload.content));
        ctx.check(payload.publisher_id === publisher.identity.entityId, `publisher_id ${publisher.identity.entityId} (PP-EVT-005)`, String(payload.publisher_id));
        await s.expectSilence(300, "one EVENT per BROADCAST");
      }
    },
  },
  {
    id: "only-subscribers",
    title: "A server does not deliver an EVENT to a connection not subscribed to its channel",
    requirements: ["PP-EVT-004"],
    level: "MUST",
    requires: EVENTS,
    async run(ctx) {
      const publisher = await ctx.session();
      const other = await subscriber(ctx);
      const left = await subscriber(ctx);
      const name = channel(publisher, "x");
      await subscribe(other, [channel(publisher, "y")]);
      await subscribe(left, [name]);
      frame(left, "UNSUBSCRIBE", [name]);
      await left.expectMessage("UNSUBSCRIBED");
      const sent = publisher.sendRecord("BROADCAST", { channel: name, content: "for nobody" });
      await publisher.expectAck(sent.seq as number);
      await other.expectSilence(400, "no EVENT on a channel the connection did not subscribe to");
      await left.expectSilence(100, "no EVENT after UNSUBSCRIBE");
    },
  },
  {
    id: "broadcast-without-subscribers",
    title: "A server acknowledges a BROADCAST to a channel that has no subscribers",
    requirements: ["PP-EVT-008"],
    level: "MUST",
    requires: EVENTS,
    async run(ctx) {
      const publisher = await ctx.session();
      const sent = publisher.sendRecord("BROADCAST", { channel: channel(publisher, "empty"), content: 1 });
      await publisher.expectAck(sent.seq as number);
    },
  },
  {
    id: "bad-channel-name",
    title: "A server answers a channel name outside [A-Za-z0-9._:-]{1,128} with INVALID_MESSAGE",
    requirements: ["PP-EVT-007", "PP-ERR-004", "PP-ENV-007"],
    level: "MUST",
    requires: EVENTS,
    async run(ctx) {
      const probe = await subscriber(ctx);
      // Each name breaks only the pattern; the neighbours that keep to it (128 characters, every
      // punctuation mark allowed) are subscribed to below.
      for (const bad of ["has space", "", "x".repeat(129), "ünïcode", "a/b"]) {
        const sent = frame(probe, "SUBSCRIBE", [bad]);
        await probe.expectError("INVALID_MESSAGE", { checkConnection: false, relatedMessageId: String(sent.message_id) });
      }
      const ok = channel(probe, "ok");
      const longest = `${ok}.${"x".repeat(128 - ok.length - 1)}`;
      const punctuated = `${ok}:-_.`;
      const subscribed = await subscribe(probe, [ok, longest, punctuated]);
      ctx.check(jcsEqual([...subscribed].sort(), [ok, longest, punctuated].sort()), `SUBSCRIBED ${JSON.stringify([ok, longest, punctuated])}: the connection keeps serving after INVALID_MESSAGE, and a name of 128 characters or with . _ : - is valid`, JSON.stringify(subscribed));
      const publisher = await ctx.session();
      const sent = publisher.sendRecord("BROADCAST", { channel: "bad channel", content: 1 });
      await publisher.expectError("INVALID_MESSAGE", { checkConnection: false });
      ctx.note(`after the rejected BROADCAST: ${await publisher.expectServingAfterRejected(sent.seq as number)}`);
    },
  },
  {
    id: "broadcast-needs-events",
    title: "A server publishes no BROADCAST from a session that did not select the events capability, and publishes one from a session that did",
    requirements: ["PP-CAP-008", "PP-EVT-003"],
    level: "MUST",
    requires: EVENTS,
    async run(ctx) {
      const listener = await subscriber(ctx);
      const without = await ctx.probe();
      await without.handshake({ capabilities: ["websocket"] });
      ctx.check(!without.capabilities.includes("events"), "events not selected when not offered", JSON.stringify(without.capabilities));
      const name = channel(without, "unselected");
      await subscribe(listener, [name]);
      // Everything about this BROADCAST is valid except that its session did not select events.
      const refused = without.sendRecord("BROADCAST", { channel: name, content: { unselected: true } });
      await without.expectError("PERMISSION_DENIED", { relatedMessageId: String(refused.message_id) });
      await listener.expectSilence(300, "no EVENT from a session that did not select the events capability (PP-CAP-008)");
      // The neighbour: the same BROADCAST from a session that selected events is published.
      const selected = await ctx.probe();
      await selected.handshake({ capabilities: ["websocket", "events"] });
      ctx.check(selected.capabilities.includes("events"), "events selected when offered", JSON.stringify(selected.capabilities));
      selected.sendRecord("BROADCAST", { channel: name, content: { selected: true } });
      const item = await listener.expectMessage("EVENT", { describe: `the EVENT on ${name} from the session that selected events` });
      ctx.check(jcsEqual(ProbePeer.payloadOf(item).content, { selected: true }), "the content of the BROADCAST", JSON.stringify(ProbePeer.payloadOf(item).content));
    },
  },
  {
    id: "subscribe-timeout",
    title: "A server closes an events connection that sends no SUBSCRIBE within handshake_timeout_ms with HANDSHAKE_TIMEOUT, and keeps one that subscribed in time",
    requirements: ["PP-EVT-009", "PP-ERR-003"],
    level: "MUST",
    requires: EVENTS,
    async run(ctx) {
      const timeout = ctx.limits.handshake_timeout_ms ?? 5000;
      if (timeout > 120_000) ctx.skip(`handshake_timeout_ms is ${timeout}: start the target with a value of at most 120000 to test this`);
      if (timeout > 10_000 && !ctx.slow) ctx.skip(`handshake_timeout_ms is ${timeout}: run with --slow`);
      const slack = 1500;
      // Two connections at once: one silent, one that subscribes at once (the valid neighbour).
      const silent = await subscriber(ctx, timeout + slack);
      const subscribed = await subscriber(ctx, timeout + slack);
      const opened = Date.now();
      await subscribe(subscribed, [channel(subscribed, "in-time")]);
      await silent.expectError("HANDSHAKE_TIMEOUT", { timeoutMs: timeout + slack });
      ctx.note(`the silent connection closed after about ${Date.now() - opened} ms (handshake_timeout_ms ${timeout})`);
      const wait = opened + timeout + 500 - Date.now();
      if (wait > 0) await ctx.sleep(wait);
      const later = channel(subscribed, "later");
      const channels = await subscribe(subscribed, [later]);
      ctx.check(channels.includes(later), `SUBSCRIBED listing ${later}: a connection that subscribed in time still serves past handshake_timeout_ms`, JSON.stringify(channels));
    },
  },
  {
    id: "subscription-limit",
    title: "A server answers a SUBSCRIBE over max_subscriptions with PERMISSION_DENIED and keeps the existing subscriptions",
    requirements: ["PP-LIM-006", "PP-TRN-015"],
    level: "MUST",
    requires: EVENTS,
    async run(ctx) {
      const max = ctx.limits.max_subscriptions ?? 100;
      if (max > 5000) ctx.skip(`max_subscriptions is ${max}: too many channels to subscribe`);
      const probe = await subscriber(ctx);
      const names = Array.from({ length: max }, (_, i) => channel(probe, `n${i}`));
      for (let i = 0; i < names.length; i += 100) await subscribe(probe, names.slice(i, i + 100));
      frame(probe, "SUBSCRIBE", [channel(probe, "over")]);
      await probe.expectError("PERMISSION_DENIED");
      const publisher = await ctx.session();
      const sent = publisher.sendRecord("BROADCAST", { channel: names[0], content: "still here" });
      await publisher.expectAck(sent.seq as number);
      await probe.expectMessage("EVENT", { describe: `an EVENT on ${String(names[0])}, subscribed before the refused SUBSCRIBE` });
    },
  },
]);
