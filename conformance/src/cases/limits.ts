/**
 * Spec §13 (limits): frame size, rate limit, heartbeat, with the limits the target advertises
 * (PP-TRN-015: the advertised limits are the enforced ones).
 */
import { connect as tcpConnect, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { suite, type CaseContext } from "../case.ts";
import { ProbePeer, type Envelope } from "../probe/peer.ts";
import { chunksOf, type Chunk } from "../probe/chunks.ts";
import { unb64u } from "../probe/wire.ts";
import { endSessions, jcsEqual, payloadOfSize, resumeOnNewConnection } from "./support.ts";

export const limitCases = suite("limits", "13. Limits", [
  {
    id: "frame-too-large",
    title: "A server closes a WebSocket that receives a frame larger than max_frame_bytes with close code 1009",
    requirements: ["PP-LIM-001", "PP-LIM-014", "PP-TRN-015"],
    level: "MUST",
    async run(ctx) {
      const max = ctx.limits.max_frame_bytes ?? 1_048_576;
      if (max > 64 * 1024 * 1024) ctx.skip(`max_frame_bytes is ${max}: too large to send`);
      const before = await ctx.probe();
      before.sendFrameOfSize(max + 1);
      await before.expectClose(1009, { errorFirst: "MESSAGE_TOO_LARGE" });
      const inSession = await ctx.session();
      inSession.sendFrameOfSize(max + 1);
      await inSession.expectClose(1009, { errorFirst: "MESSAGE_TOO_LARGE" });
    },
  },
  {
    id: "frame-at-limit",
    title: "A server accepts a frame of exactly max_frame_bytes",
    requirements: ["PP-TRN-015", "PP-LIM-001", "PP-LIM-015"],
    level: "MUST",
    async run(ctx) {
      const max = ctx.limits.max_frame_bytes ?? 1_048_576;
      if (max > 64 * 1024 * 1024) ctx.skip(`max_frame_bytes is ${max}: too large to send`);
      // A HANDSHAKE_INIT padded to exactly the limit with JSON whitespace after its opening brace:
      // insignificant in JSON (RFC 8259 §2), outside the transcript (which hashes JCS, PP-KS-001),
      // so every server must take it, whatever it does with unknown members (PP-VER-001).
      const probe = await ctx.probe();
      const init = probe.buildInit();
      const bare = JSON.stringify(init);
      const text = `{${" ".repeat(max - Buffer.byteLength(bare))}${bare.slice(1)}`;
      ctx.check(Buffer.byteLength(text) === max, `a frame of ${max} bytes`, `${Buffer.byteLength(text)}`);
      probe.sendHandshake(init, text);
      await probe.receiveInitAck(10_000);
    },
  },
  {
    id: "rate-limit",
    title: "A server answers data records of a session beyond rate_limit_per_minute with RATE_LIMIT_EXCEEDED and does not process them, counting across a resume and counting chunks",
    requirements: ["PP-LIM-003", "PP-LIM-016", "PP-TRN-015"],
    level: "MUST",
    async run(ctx) {
      const limit = ctx.limits.rate_limit_per_minute ?? 100;
      if (limit > 2000) ctx.skip(`rate_limit_per_minute is ${limit}: too many records to send`);
      if (limit < 2) ctx.skip(`rate_limit_per_minute is ${limit}: too few records to split across a resume`);
      let probe = await ctx.session();
      const histories: ProbePeer[] = [probe];
      // The answers come back to the probe: it acknowledges them in batches, so that the server
      // never holds more than retransmit_buffer of them unacknowledged (PP-DLV-011).
      const batch = Math.max(1, Math.min(limit, (ctx.limits.retransmit_buffer ?? 1024) - 1));
      const half = Math.floor(limit / 2);
      const sendUpTo = async (from: number, to: number, waitForLast: boolean): Promise<void> => {
        for (let sent = from; sent < to; ) {
          const last = Math.min(to, sent + batch);
          for (; sent < last; sent++) probe.sendRecord("TASK_REQUEST", { task_id: `task-r${sent}`, action: "echo", params: { i: sent } });
          if (sent === to && !waitForLast) break;
          await probe.expectMessage((m) => m.envelope.type === "TASK_RESPONSE" && ProbePeer.payloadOf(m).task_id === `task-r${sent - 1}`, { describe: `the TASK_RESPONSE for task-r${sent - 1}`, skip: (m) => ["TASK_RESPONSE", "ACK", "PING", "PONG"].includes(String(m.envelope.type)) });
          probe.ack();
        }
      };
      // PP-LIM-016: one window per session, which a resume keeps: half before, half after.
      await sendUpTo(0, half, true);
      probe = await resumeOnNewConnection(ctx, probe, 0, "halfway through the rate limit");
      histories.push(probe);
      await sendUpTo(half, limit, false);
      // PP-LIM-016: a chunk is a data record, and counts: the record over the limit is one.
      const chunk = chunksOf(probe.newId("big"), "TASK_REQUEST", { task_id: "task-over", action: "echo", params: { blob: "o".repeat((ctx.limits.max_chunk_bytes ?? 262_144) + 100) } }, ctx.limits.max_chunk_bytes ?? 262_144)[0];
      const over = probe.sendRecord("CHUNKED_MESSAGE", chunk);
      const error = await probe.expectMessage((m) => m.envelope.type === "ERROR", {
        timeoutMs: 10_000,
        describe: `ERROR RATE_LIMIT_EXCEEDED for data record ${limit + 1}, a chunk sent after a resume`,
        skip: (m) => ["TASK_RESPONSE", "ACK", "PING", "PONG"].includes(String(m.envelope.type)),
      });
      await probe.checkError(error, "RATE_LIMIT_EXCEEDED", { checkConnection: false });
      // PP-LIM-003: acknowledgements are cumulative, so the ERROR (not the ACK) tells the sender
      // that this record was discarded: it must name the record.
      const related = ProbePeer.payloadOf(error).related_message_id;
      ctx.check(related === over.message_id, `RATE_LIMIT_EXCEEDED naming the record in related_message_id (${String(over.message_id)})`, `related_message_id ${JSON.stringify(related)}`);
      await probe.expectSilence(Math.max(500, (ctx.limits.ack_delay_ms ?? 100) * 3), "no TASK_RESPONSE to the record over the limit", {
        allow: (m) => m.envelope.type !== "TASK_RESPONSE" || ProbePeer.payloadOf(m).task_id !== "task-over",
      });
      const answered = new Set(histories.flatMap((p) => p.history.flatMap((i) => (i.kind === "message" && i.envelope.type === "TASK_RESPONSE" ? [String(ProbePeer.payloadOf(i).task_id)] : []))));
      ctx.check(answered.size === limit && !answered.has("task-over"), `${limit} TASK_RESPONSE records, one per record within the limit`, `${answered.size}${answered.has("task-over") ? ", task-over among them" : ""}`);
    },
  },
  {
    id: "request-timeout",
    title: "A server closes a connection that stays silent, or sends its request headers or body slowly, for request_timeout_ms",
    requirements: ["PP-LIM-010", "PP-TRN-015"],
    level: "MUST",
    async run(ctx) {
      const timeout = ctx.limits.request_timeout_ms ?? 10_000;
      if (timeout > 120_000) ctx.skip(`request_timeout_ms is ${timeout}: start the target with a value of at most 120000 to test this`);
      if (timeout > 10_000 && !ctx.slow) ctx.skip(`request_timeout_ms is ${timeout}: run with --slow`);
      const slack = 1500 + timeout / 5;
      const [silent, headers, body, prompt] = await Promise.all([0, 1, 2, 3].map(() => rawConnection(ctx)));
      const opened = Date.now();
      // Each slow connection sends a byte well within the timeout, so only the request's deadline can close it.
      const dripEvery = Math.max(10, Math.floor(timeout / 10));
      (headers as RawConnection).write(`GET /peers/capabilities HTTP/1.1\r\nhost: ${new URL(ctx.target.baseUrl).host}\r\n`);
      (body as RawConnection).write(`POST /peers/message HTTP/1.1\r\nhost: ${new URL(ctx.target.baseUrl).host}\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n{`);
      const drip = setInterval(() => {
        headers?.write("x-slow: 1\r\n");
        body?.write(" ");
      }, dripEvery);
      try {
        // The valid neighbour: a request sent at once is answered.
        (prompt as RawConnection).write(`GET /peers/capabilities HTTP/1.1\r\nhost: ${new URL(ctx.target.baseUrl).host}\r\n\r\n`);
        const answered = await prompt?.response(timeout);
        ctx.check(answered === true, "HTTP 200 to GET /peers/capabilities sent at once", prompt?.received.slice(0, 40) || "no answer");
        for (const [name, c] of [["sends nothing", silent], ["sends its headers slowly", headers], ["sends its body slowly", body]] as const) {
          const closed = await c?.closedWithin(timeout + slack - (Date.now() - opened));
          ctx.check(closed === true, `the connection that ${name} closed within request_timeout_ms ${timeout} (+${Math.round(slack)} ms)`, `still open after ${Date.now() - opened} ms`);
        }
        ctx.note(`the slow connections closed after about ${Date.now() - opened} ms`);
      } finally {
        clearInterval(drip);
        for (const c of [silent, headers, body, prompt]) c?.destroy();
      }
    },
  },
  {
    id: "connections-per-ip",
    title: "A server closes a connection over max_connections_per_ip from one address before reading it, and serves one after another closed",
    requirements: ["PP-LIM-011", "PP-TRN-015"],
    level: "MUST",
    async run(ctx) {
      const max = ctx.limits.max_connections_per_ip ?? 256;
      if (max === 0) ctx.skip("max_connections_per_ip is 0: no limit");
      if (max > 1000) ctx.skip(`max_connections_per_ip is ${max}: too many connections to open`);
      // max + 1 connections at once, each with a request; the runner's own connections to the target
      // count too, so at least one (not exactly one) must be closed without an answer.
      const connections = await Promise.all(Array.from({ length: max + 1 }, () => rawConnection(ctx)));
      try {
        for (const c of connections) c.write(`GET /peers/capabilities HTTP/1.1\r\nhost: ${new URL(ctx.target.baseUrl).host}\r\n\r\n`);
        const outcomes = await Promise.all(connections.map((c) => c.response(3000)));
        const refused = connections.filter((c, i) => outcomes[i] !== true && c.closed && c.received === "");
        const unexplained = connections.filter((c, i) => outcomes[i] !== true && !(c.closed && c.received === ""));
        ctx.check(refused.length >= 1, `of ${max + 1} connections from one address, at least one closed before any answer (max_connections_per_ip ${max})`, `all ${max + 1} answered`);
        ctx.check(unexplained.length === 0, "every other connection answered HTTP 200", `${unexplained.length} neither answered nor closed unanswered: ${unexplained[0]?.received.slice(0, 40) ?? ""}`);
        ctx.note(`${connections.length - refused.length} of ${max + 1} served`);
      } finally {
        for (const c of connections) c.destroy();
      }
      // The neighbour: once connections closed, a new one is served.
      await ctx.sleep(200);
      const next = await rawConnection(ctx);
      try {
        next.write(`GET /peers/capabilities HTTP/1.1\r\nhost: ${new URL(ctx.target.baseUrl).host}\r\n\r\n`);
        ctx.check((await next.response(3000)) === true, "HTTP 200 on a new connection once the others closed", next.received.slice(0, 40) || (next.closed ? "closed" : "no answer"));
      } finally {
        next.destroy();
      }
    },
  },
  {
    id: "heartbeat-ping",
    title: "A server sends a PING record or a WebSocket ping when it has sent nothing for ping_interval_ms",
    requirements: ["PP-LIM-004"],
    level: "MUST",
    slow: true,
    async run(ctx) {
      const interval = ctx.limits.ping_interval_ms ?? 30_000;
      const probe = await ctx.session({ autoPong: true });
      const deadline = Date.now() + interval + 5000;
      while (Date.now() < deadline && probe.wsPings === 0) {
        const item = await probe.next(Math.min(500, Math.max(1, deadline - Date.now())));
        if (item?.kind === "message" && item.envelope.type === "PING") return;
        if (item?.kind === "close") ctx.fail(`a PING record or WebSocket ping within ping_interval_ms (${interval} ms)`, `connection closed with ${item.code}`);
      }
      ctx.check(probe.wsPings > 0, `a PING record or WebSocket ping within ping_interval_ms (${interval} ms)`, `nothing within ${interval + 5000} ms`);
    },
  },
  {
    id: "heartbeat-timeout",
    title: "A server closes a connection from which nothing arrived for ping_interval_ms + pong_grace_ms with HEARTBEAT_TIMEOUT",
    requirements: ["PP-LIM-005", "PP-ERR-003"],
    level: "MUST",
    slow: true,
    async run(ctx) {
      const wait = (ctx.limits.ping_interval_ms ?? 30_000) + (ctx.limits.pong_grace_ms ?? 10_000);
      const probe = await ctx.session({ autoPong: false, wsAutoPong: false });
      await probe.expectError("HEARTBEAT_TIMEOUT", { timeoutMs: wait + 5000 });
    },
  },
  {
    id: "slow-consumer-events",
    title: "A server closes an events connection whose unsent data exceeds max_send_queue_bytes with BUFFER_OVERFLOW (1013)",
    requirements: ["PP-LIM-007"],
    level: "MUST",
    requires: ["events"],
    async run(ctx) {
      const channel = `conf.flood.${Date.now().toString(36)}`;
      const subscriber = await ctx.probe({ endpoint: "events" });
      subscriber.sendJson(subscriber.plaintextEnvelope("SUBSCRIBE", { channels: [channel] }, { recipientId: null }));
      await subscriber.expectMessage("SUBSCRIBED");
      const publisher = await ctx.session();
      await flood(ctx, subscriber, (content) => publisher.sendRecord("BROADCAST", { channel, content }), publisher);
    },
  },
  {
    id: "buffered-bytes",
    title: "A server holds no more than max_buffered_bytes of queued data records and incomplete chunked messages for all sessions at once, refuses the excess with BUFFER_OVERFLOW, and frees what is acknowledged or belongs to an ended session",
    requirements: ["PP-LIM-012", "PP-LIM-013", "PP-DLV-013"],
    level: "MUST",
    requires: ["chunking"],
    async run(ctx) {
      const budget = ctx.limits.max_buffered_bytes ?? 134_217_728;
      const piece = ctx.limits.max_chunk_bytes ?? 262_144;
      const queue = ctx.limits.max_send_queue_bytes ?? 8_388_608;
      const { message, perHolder } = holding(ctx);
      // 1. A recipient that reads but does not acknowledge holds one queue of data records:
      //    messages of one record each, acknowledged to the sender once queued (PP-DLV-012).
      const reader = await ctx.session({ identityIndex: 0 });
      const sender = await ctx.session({ identityIndex: 1 });
      const size = Math.min(piece, Math.floor(queue / 4));
      const count = Math.min(4, Math.floor(queue / size));
      const queued = Array.from({ length: count }, () => sender.sendRecord("PEER_MESSAGE", payloadOfSize(size), { envelope: { recipient_id: reader.identity.entityId } }));
      await sender.expectAck(queued.at(-1)?.seq as number, 10_000);
      const delivered: number[] = [];
      for (let i = 0; i < count; i++) delivered.push((await reader.expectMessage("PEER_MESSAGE", { describe: `queued message ${i + 1} of ${count}`, timeoutMs: 10_000 })).envelope.seq as number);
      // 2. Holders fill the rest with incomplete chunked messages until the target refuses.
      const holders: ProbePeer[] = [];
      const identities = new Map<ProbePeer, number>();
      let held = count * size;
      let refused = false;
      while (!refused && held <= budget && holders.length < Math.ceil(budget / piece) + 2) {
        const holder = await ctx.session({ identityIndex: 2 + holders.length });
        identities.set(holder, 2 + holders.length);
        holders.push(holder);
        const outcome = await hold(holder, message(holder));
        held += outcome.taken;
        refused = outcome.refused;
      }
      // Whatever else the target holds only brings the refusal earlier: what it took never adds up to more than the budget.
      // Each session may hold max_chunk_bytes whatever the others hold: the budget plus that much per session.
      const ceiling = budget + (holders.length + 1) * piece;
      ctx.check(held <= ceiling, `at most max_buffered_bytes (${budget}) plus max_chunk_bytes per session, ${ceiling} in all, of queued records and chunk data taken for ${holders.length + 1} sessions (PP-LIM-012)`, `${held} bytes taken`);
      ctx.check(refused, `BUFFER_OVERFLOW once the data held for ${holders.length + 1} sessions passes max_buffered_bytes ${budget}`, `${held} bytes taken, none refused`);
      ctx.note(`${held} bytes taken (${count * size} queued, the rest chunks of ${holders.length} sessions) before BUFFER_OVERFLOW (max_buffered_bytes ${budget})`);
      // A session that holds nothing still has room (PP-LIM-012): its echo is answered.
      const small = { note: "a small session is served while the budget is full" };
      const { response } = await sender.echo(small, { timeoutMs: 10_000 });
      ctx.check(jcsEqual(ProbePeer.payloadOf(response).result, small), "the echo of a session holding nothing answered while others fill max_buffered_bytes (PP-LIM-012)", "a different TASK_RESPONSE");
      sender.ack();
      // A data record with room in its recipient's queue is refused too: the budget is the server's.
      // Other sessions' data may be freed meanwhile (an earlier case's chunk timeout), so the budget
      // is topped up again before each of up to three tries; a target without the check takes all three.
      let lateRefused = false;
      let topUps = 0;
      for (let attempt = 0; attempt < 3 && !lateRefused; attempt++) {
        if (attempt > 0) {
          topUps++;
          const topUp = await ctx.session({ identityIndex: 2 + holders.length });
          identities.set(topUp, 2 + holders.length);
          holders.push(topUp);
          await hold(topUp, message(topUp));
        }
        const late = sender.sendRecord("PEER_MESSAGE", payloadOfSize(size), { envelope: { recipient_id: reader.identity.entityId } });
        const outcome = await sender.expectMessage((m) => m.envelope.type === "ERROR" || (m.envelope.type === "ACK" && (ProbePeer.payloadOf(m).ack as number) >= (late.seq as number)), { timeoutMs: 10_000, describe: `ERROR BUFFER_OVERFLOW for ${String(late.message_id)}, or its ACK` });
        if (outcome.envelope.type === "ERROR") {
          await sender.checkError(outcome, "BUFFER_OVERFLOW", { relatedMessageId: String(late.message_id) });
          lateRefused = true;
        } else {
          // Taken: it is the reader's like the others, acknowledged with them below.
          delivered.push((await reader.expectMessage("PEER_MESSAGE", { describe: "the record taken while the budget had room again", timeoutMs: 10_000 })).envelope.seq as number);
          held += size;
        }
      }
      ctx.check(lateRefused, `BUFFER_OVERFLOW for a data record whose recipient's queue has room, once the sessions fill max_buffered_bytes (PP-LIM-012), in one of three tries`, "taken three times");
      // 3. PP-LIM-013: the recipient acknowledges half its records one ACK each, then the rest by the
      //    last_rx_seq of a resume; after each, what those records held is free. A new session shows
      //    it by holding as much: its first max_chunk_bytes would fit anyway, the rest only in the space freed.
      const half = Math.floor(count / 2);
      // A top-up session may have taken its first chunk through its own max_chunk_bytes while the budget
      // was full (PP-LIM-012), so the server can hold up to one piece per top-up over the budget: the
      // first ACKs cover one more record per top-up, so that what they free beyond that still leaves
      // room for the taker's chunks, whichever of them the server counts against the budget.
      const firstAcked = Math.min(delivered.length - 1, half + topUps);
      const takers: ProbePeer[] = [];
      const holdFreed = async (bytes: number, how: string) => {
        const taker = await ctx.session({ identityIndex: 2 + holders.length + takers.length });
        identities.set(taker, 2 + holders.length + takers.length);
        takers.push(taker);
        const chunks = message(taker).slice(0, Math.max(2, Math.floor(bytes / piece)));
        const freed = await hold(taker, chunks);
        ctx.check(!freed.refused, `${chunks.length} chunks of ${piece} bytes taken once the recipient ${how} (PP-LIM-013)`, "BUFFER_OVERFLOW");
      };
      for (const seq of delivered.slice(0, firstAcked)) reader.ack(seq);
      await ctx.sleep(200);
      await holdFreed(half * size, `acknowledged ${half * size} bytes of queued records by ACK`);
      await resumeOnNewConnection(ctx, reader, 0, "the recipient resumes, its last_rx_seq covering every record");
      await ctx.sleep(200);
      await holdFreed((delivered.length - firstAcked) * size, `acknowledged the rest of its queued records by a resume's last_rx_seq`);
      // 4. PP-LIM-013: the holders end their sessions; what they held is free for a new session.
      await endSessions(ctx, [...holders, ...takers].map((probe) => [probe, identities.get(probe) as number]));
      await ctx.sleep(300);
      const fresh = await ctx.session({ identityIndex: 2 + holders.length + takers.length });
      const after = await hold(fresh, message(fresh).slice(0, Math.min(perHolder, 4)));
      ctx.check(!after.refused, `chunks taken once the sessions that held ${held} bytes ended (PP-LIM-013)`, "BUFFER_OVERFLOW");
      await endSessions(ctx, [[fresh, 2 + holders.length + takers.length]]);
    },
  },
  {
    id: "expired-chunks-freed",
    title: "A server counts incomplete chunked messages it discarded at chunk_timeout_ms as free again under max_buffered_bytes",
    requirements: ["PP-LIM-013", "PP-CHK-010", "PP-LIM-012"],
    level: "MUST",
    requires: ["chunking"],
    async run(ctx) {
      const timeout = ctx.limits.chunk_timeout_ms ?? 30_000;
      if (timeout > 10_000 && !ctx.slow) ctx.skip(`chunk_timeout_ms is ${timeout}: run with --slow`);
      const { message, perHolder } = holding(ctx);
      // Holders fill the budget with messages they never complete, until the target refuses.
      const holders: ProbePeer[] = [];
      let refused = false;
      while (!refused && holders.length < Math.ceil((ctx.limits.max_buffered_bytes ?? 134_217_728) / (ctx.limits.max_chunk_bytes ?? 262_144)) + 2) {
        const holder = await ctx.session({ identityIndex: holders.length, stepTimeoutMs: timeout + 5000 });
        holders.push(holder);
        refused = (await hold(holder, message(holder))).refused;
      }
      ctx.check(refused, "BUFFER_OVERFLOW once incomplete chunked messages fill max_buffered_bytes (PP-LIM-012)", "none refused");
      // PP-CHK-010 discards them chunk_timeout_ms after their first chunk; PP-LIM-013 frees their bytes.
      await ctx.sleep(timeout + 1500);
      const fresh = await ctx.session({ identityIndex: holders.length });
      const after = await hold(fresh, message(fresh).slice(0, Math.min(perHolder, 4)));
      ctx.check(!after.refused, `chunks taken once the incomplete messages were discarded at chunk_timeout_ms ${timeout} (PP-LIM-013)`, "BUFFER_OVERFLOW");
      await endSessions(ctx, [[fresh, holders.length]]);
    },
  },
  {
    id: "slow-reader-pings",
    title: "A server closes with BUFFER_OVERFLOW (1013) a connection that stops reading while its PINGs pile up PONGs past max_send_queue_bytes",
    requirements: ["PP-LIM-007", "PP-DLV-010"],
    level: "MUST",
    async run(ctx) {
      const queue = ctx.limits.max_send_queue_bytes ?? 8_388_608;
      // A PONG record is a few hundred bytes: four times the queue, so that the kernel's socket buffers cannot absorb it.
      const count = Math.ceil((4 * queue) / 300);
      if (count > 200_000) ctx.skip(`max_send_queue_bytes ${queue} needs ${count} PINGs`);
      // About 100 µs per PING and PONG on both sides: past 50,000 the case needs the longer timeout of --slow.
      if (count > 50_000 && !ctx.slow) ctx.skip(`max_send_queue_bytes ${queue} needs ${count} PINGs: run with --slow`);
      const probe = await ctx.session();
      probe.setReading(false);
      const pingId = `ping-${"p".repeat(100)}`;
      for (let i = 0; i < count; i++) {
        probe.sendRecord("PING", { ping_id: pingId });
        if (i % 1000 === 999) await ctx.sleep(1); // let the target read and answer as it goes
      }
      // The probe reads again only once the target has had time to read the PINGs (about 100 µs
      // each): reading sooner drains its queue while PINGs are still arriving, and a fast target
      // never reaches the bound (seen: 3 runs in 8 against the compiled reference).
      await ctx.sleep(Math.max(500, count / 10));
      probe.setReading(true);
      const code = await probe.expectClose(1013, { timeoutMs: 20_000, afterError: "BUFFER_OVERFLOW" });
      ctx.note(`closed with ${code} after ${count} PINGs`);
    },
  },
  {
    id: "slow-recipient",
    title: "A server bounds what it holds for a recipient that stops reading, by closing it with BUFFER_OVERFLOW or refusing its senders with BUFFER_OVERFLOW, and drops nothing it acknowledged",
    requirements: ["PP-DLV-013", "PP-DLV-014", "PP-LIM-007", "PP-DLV-012"],
    level: "MUST",
    requires: ["resume"],
    async run(ctx) {
      const queue = ctx.limits.max_send_queue_bytes ?? 8_388_608;
      const piece = Math.min(Math.floor((ctx.limits.max_frame_bytes ?? 1_048_576) * 0.5), 512 * 1024, (ctx.limits.max_chunk_bytes ?? 262_144) - 512);
      // 2.5 times the queue, so that neither the kernel's socket buffers nor the queue can hold it all.
      const needed = Math.ceil((2.5 * queue) / piece);
      const count = Math.min(ctx.limits.retransmit_buffer ?? 1024, (ctx.limits.rate_limit_per_minute ?? 100) - 5);
      if (needed > count) ctx.skip(`max_send_queue_bytes ${queue} needs ${needed} unacknowledged records of ${piece} bytes, over retransmit_buffer or rate_limit_per_minute`);
      const bob = await ctx.session({ identityIndex: 1 });
      const alice = await ctx.session({ identityIndex: 0 });
      bob.setReading(false);
      const content = "f".repeat(piece - 200);
      const sent = Array.from({ length: count }, () => alice.sendRecord("PEER_MESSAGE", { content }, { envelope: { recipient_id: bob.identity.entityId } }));
      // The sender learns the outcome: every record acknowledged, or BUFFER_OVERFLOW (PP-DLV-013).
      const outcome = await alice.expectMessage((m) => m.envelope.type === "ERROR" || (m.envelope.type === "ACK" && (ProbePeer.payloadOf(m).ack as number) >= (sent.at(-1)?.seq as number)), { timeoutMs: 20_000, describe: `ACK of all ${count} records or ERROR BUFFER_OVERFLOW` });
      const refused = outcome.envelope.type === "ERROR";
      if (refused) await alice.checkError(outcome, "BUFFER_OVERFLOW");
      const acked = Math.max(-1, ...alice.history.map((i) => (i.kind === "message" && i.envelope.type === "ACK" ? (ProbePeer.payloadOf(i).ack as number) : -1)));
      // The recipient reads again: what was acknowledged to the sender reaches it, on this connection or after a resume.
      bob.setReading(true);
      const received = new Set<string>();
      let reader = bob;
      let closedWith: number | null = null;
      for (;;) {
        const item = await reader.next(Math.max(1000, reader.stepTimeoutMs));
        if (item === null) break;
        if (item.kind === "close") {
          closedWith = item.code;
          ctx.check(item.code === 1013, "a recipient that stops reading closed with 1013 (BUFFER_OVERFLOW, PP-LIM-007), if at all", `close ${item.code}`);
          reader = await resumeOnNewConnection(ctx, reader, 1, "the recipient closed for its send queue comes back for the rest");
          continue;
        }
        if (item.kind === "message" && item.envelope.type === "PEER_MESSAGE") {
          received.add(String(item.envelope.message_id));
          reader.ack();
        }
      }
      ctx.check(refused || closedWith !== null, `a bound: the recipient closed (PP-LIM-007) or the sender refused (PP-DLV-013, PP-DLV-014) before ${count} records of ${piece} bytes, ${((count * piece) / queue).toFixed(1)} times max_send_queue_bytes, were held for a recipient that does not read`, "every record acknowledged and the recipient never closed");
      const lost = sent.filter((record) => (record.seq as number) <= acked && !received.has(String(record.message_id)));
      ctx.check(lost.length === 0, "every record acknowledged to the sender delivered to the recipient (PP-DLV-012)", `${lost.length} acknowledged records never delivered, the first ${String(lost[0]?.message_id)}`);
      ctx.note(`${refused ? "sender refused with BUFFER_OVERFLOW" : "all accepted"}${closedWith !== null ? `, recipient closed ${closedWith}` : ""}; ${received.size} delivered, acknowledged up to seq ${acked}`);
    },
  },
]);

/**
 * The most one session may hold of incomplete chunked messages (PP-CHK-015): every chunk but the
 * last of one message of max_message_bytes, in as few records as max_chunk_bytes allows.
 */
function holding(ctx: CaseContext): { message: (probe: ProbePeer) => Chunk[]; perHolder: number } {
  const budget = ctx.limits.max_buffered_bytes ?? 134_217_728;
  const limit = ctx.limits.max_message_bytes ?? 16_777_216;
  const piece = ctx.limits.max_chunk_bytes ?? 262_144;
  const rate = ctx.limits.rate_limit_per_minute ?? 100;
  if (budget === 0) ctx.skip("max_buffered_bytes is 0: no limit");
  if (budget > 64 * 1_048_576 && !ctx.slow) ctx.skip(`max_buffered_bytes is ${budget}: filling it takes more than ${64 * 1_048_576} bytes of chunks; run with --slow`);
  const perHolder = Math.floor(limit / piece) - (limit % piece === 0 ? 1 : 0);
  if (perHolder < 2) ctx.skip(`max_message_bytes ${limit} fits in two chunks of ${piece}`);
  if (rate !== 0 && rate < perHolder + 5) ctx.skip(`holding max_message_bytes ${limit} in chunks of ${piece} needs ${perHolder + 5} records a minute; the target allows ${rate}`);
  return { message: (probe) => chunksOf(probe.newId("hold"), "PEER_MESSAGE", payloadOfSize(limit), piece).slice(0, -1), perHolder };
}

/** Sends `chunks` to the server itself; how many bytes of data it took (ACK), and whether it refused the rest. */
async function hold(holder: ProbePeer, chunks: Chunk[]): Promise<{ taken: number; refused: boolean }> {
  const records = chunks.map((chunk) => holder.sendRecord("CHUNKED_MESSAGE", chunk, { envelope: { recipient_id: holder.serverId ?? "" } }));
  const outcome = await holder.expectMessage((m) => m.envelope.type === "ERROR" || (m.envelope.type === "ACK" && (ProbePeer.payloadOf(m).ack as number) >= (records.at(-1)?.seq as number)), { timeoutMs: 20_000, describe: `ACK of ${records.length} chunks or ERROR BUFFER_OVERFLOW` });
  const acked = Math.max(-1, ...holder.history.map((m) => (m.kind === "message" && m.envelope.type === "ACK" ? (ProbePeer.payloadOf(m).ack as number) : -1)));
  const taken = chunks.filter((_, k) => (records[k]?.seq as number) <= acked).reduce((sum, chunk) => sum + (unb64u(chunk.data)?.length ?? 0), 0);
  if (outcome.envelope.type === "ERROR") await holder.checkError(outcome, "BUFFER_OVERFLOW");
  return { taken, refused: outcome.envelope.type === "ERROR" };
}

/**
 * Makes `victim` a slow consumer (it stops reading) while `send` pushes three times
 * max_send_queue_bytes towards it, then expects the target to have closed it with 1013.
 */
async function flood(ctx: CaseContext, victim: ProbePeer, send: (content: string) => Envelope, sender: ProbePeer): Promise<void> {
  const queue = ctx.limits.max_send_queue_bytes ?? 8_388_608;
  // One record per piece: a piece over max_chunk_bytes would travel as several chunk records, each
  // counting against retransmit_buffer (PP-CHK-001).
  const piece = Math.min(Math.floor((ctx.limits.max_frame_bytes ?? 1_048_576) * 0.5), 512 * 1024, (ctx.limits.max_chunk_bytes ?? 262_144) - 512);
  // The victim acknowledges nothing, so at most retransmit_buffer records may be outstanding towards
  // it (PP-DLV-011). As many as that and the rate limit allow are sent; at least 2.5 times the
  // queue is needed, so that the kernel's socket buffers cannot absorb it all.
  const needed = Math.ceil((2.5 * queue) / piece);
  const allowed = Math.min(ctx.limits.retransmit_buffer ?? 1024, (ctx.limits.rate_limit_per_minute ?? 100) - 5);
  if (needed > allowed) ctx.skip(`max_send_queue_bytes ${queue} needs ${needed} unacknowledged records of ${piece} bytes, over retransmit_buffer or rate_limit_per_minute`);
  const count = allowed;
  victim.setReading(false);
  const content = "f".repeat(piece - 200);
  let last: Envelope | null = null;
  for (let i = 0; i < count; i++) last = send(content);
  await sender.expectAck(last?.seq as number, 20_000).catch(() => undefined);
  victim.setReading(true);
  const deadline = Date.now() + 20_000;
  let sawError = false;
  while (Date.now() < deadline) {
    // Once the victim reads again, what was queued arrives back to back: a pause of a whole step means nothing more is coming.
    const item = await victim.next(Math.max(1, Math.min(deadline - Date.now(), victim.stepTimeoutMs)));
    if (item === null) break;
    if (item.kind === "close") {
      ctx.check(item.code === 1013, "close 1013 (BUFFER_OVERFLOW) for a consumer over max_send_queue_bytes", `close ${item.code}`);
      ctx.note(`closed with 1013${sawError ? " after ERROR BUFFER_OVERFLOW" : ""}`);
      return;
    }
    if (item.kind === "message" && item.envelope.type === "ERROR") {
      ctx.check(ProbePeer.payloadOf(item).code === "BUFFER_OVERFLOW", "ERROR BUFFER_OVERFLOW", String(ProbePeer.payloadOf(item).code));
      sawError = true;
    }
  }
  ctx.fail(`close 1013 (BUFFER_OVERFLOW) after ${count} records of ${piece} bytes towards a consumer that does not read`, "the connection stayed open");
}

/** A TCP (or TLS) connection to the target below HTTP: for timeouts and limits that act before a request is read. */
interface RawConnection {
  received: string;
  closed: boolean;
  write(text: string): void;
  /** True once an HTTP 200 status line arrived, false on close or after `ms`. */
  response(ms: number): Promise<boolean>;
  /** True once the connection closed, false after `ms`. */
  closedWithin(ms: number): Promise<boolean>;
  destroy(): void;
}

async function rawConnection(ctx: CaseContext): Promise<RawConnection> {
  const url = new URL(ctx.target.baseUrl);
  const tls = url.protocol === "https:";
  const port = Number(url.port || (tls ? 443 : 80));
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const socket: Socket = tls ? tlsConnect({ host, port, servername: host, rejectUnauthorized: false }) : tcpConnect(port, host);
  const waiters = new Set<() => void>();
  const wake = () => {
    for (const w of waiters) w();
  };
  const until = (done: () => boolean, ms: number) =>
    new Promise<boolean>((resolve) => {
      const check = () => {
        if (!done()) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve(true);
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        resolve(done());
      }, Math.max(1, ms));
      waiters.add(check);
      check();
    });
  const connection: RawConnection = {
    received: "",
    closed: false,
    write: (text) => {
      if (!connection.closed && socket.writable) socket.write(text);
    },
    response: (ms) => until(() => /^HTTP\/1\.1 200 /.test(connection.received) || connection.closed, ms).then(() => /^HTTP\/1\.1 200 /.test(connection.received)),
    closedWithin: (ms) => until(() => connection.closed, ms),
    destroy: () => socket.destroy(),
  };
  socket.on("data", (data: Buffer) => {
    connection.received += data.toString("latin1");
    wake();
  });
  socket.on("error", () => {});
  socket.on("close", () => {
    connection.closed = true;
    wake();
  });
  await new Promise<void>((resolve) => {
    socket.once(tls ? "secureConnect" : "connect", () => resolve());
    socket.once("close", () => resolve());
  });
  return connection;
}
