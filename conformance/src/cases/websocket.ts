/**
 * Spec §4.1 (WebSocket, /ws/v1/peers): one JSON object per text frame; anything else is answered
 * with INVALID_MESSAGE on a connection that stays open.
 */
import { suite } from "../case.ts";
import { keepsServing } from "./support.ts";

export const websocketCases = suite("websocket", "4.1 WebSocket, /ws/v1/peers", [
  {
    id: "not-json",
    title: "A server answers a text frame that is not JSON with INVALID_MESSAGE and keeps the connection open",
    requirements: ["PP-TRN-002", "PP-ERR-004"],
    level: "MUST",
    async run(ctx) {
      const probe = await ctx.probe();
      probe.sendText("not json");
      await probe.expectError("INVALID_MESSAGE", { checkConnection: false });
      // Keeps serving: the whole handshake still runs on this connection (PP-ERR-004).
      await keepsServing(probe);
    },
  },
  {
    id: "not-json-in-session",
    title: "A server answers a non-JSON frame inside a session with INVALID_MESSAGE and keeps the session",
    requirements: ["PP-TRN-002", "PP-ERR-004"],
    level: "MUST",
    async run(ctx) {
      const probe = await ctx.session();
      probe.sendText('{"type": "PING", ');
      await probe.expectError("INVALID_MESSAGE");
      await probe.echo({ after: "not json" });
    },
  },
  {
    id: "not-an-object",
    title: "A server answers JSON that is not one object ([], 42, \"x\", null, true) with INVALID_MESSAGE",
    requirements: ["PP-TRN-002", "PP-TRN-001", "PP-ERR-004"],
    level: "MUST",
    async run(ctx) {
      const probe = await ctx.probe();
      for (const text of ["[]", "42", '"x"', "null", "true", '[{"type":"HANDSHAKE_INIT"}]']) {
        probe.sendText(text);
        await probe.expectError("INVALID_MESSAGE", { checkConnection: false });
      }
      await keepsServing(probe);
    },
  },
  {
    id: "binary-frame",
    title: "A server answers a binary frame with INVALID_MESSAGE and keeps the connection open",
    requirements: ["PP-TRN-002", "PP-ERR-004"],
    level: "MUST",
    async run(ctx) {
      const probe = await ctx.probe();
      const init = probe.buildInit();
      probe.sendBytes(new TextEncoder().encode(JSON.stringify(init)));
      await probe.expectError("INVALID_MESSAGE", { checkConnection: false });
      await keepsServing(probe);
    },
  },
  {
    id: "invalid-utf8",
    title: "A server rejects a text frame that is not valid UTF-8",
    requirements: ["PP-TRN-002"],
    level: "MUST",
    async run(ctx) {
      const probe = await ctx.probe();
      probe.sendBytes(Uint8Array.of(0x7b, 0x22, 0xc3, 0x28, 0x22, 0x3a, 0x31, 0x7d), true);
      const item = await probe.next();
      if (item?.kind === "close") {
        // RFC 6455 §8.1 makes the WebSocket layer fail such a frame with 1007 before the
        // application sees it; spec §4.1 asks for INVALID_MESSAGE. Either refuses the frame.
        ctx.check(item.code === 1007, "ERROR INVALID_MESSAGE, or close 1007 (RFC 6455 §8.1)", `close ${item.code}`);
        ctx.note("the target closed with 1007 (RFC 6455) instead of answering INVALID_MESSAGE (PP-TRN-002); both are accepted");
        return;
      }
      ctx.check(item?.kind === "message" && item.envelope.type === "ERROR", "ERROR INVALID_MESSAGE, or close 1007 (RFC 6455 §8.1)", item === null ? "nothing" : item.kind === "message" ? String(item.envelope.type) : item.kind);
      if (item?.kind === "message") await probe.checkError(item, "INVALID_MESSAGE");
    },
  },
]);
