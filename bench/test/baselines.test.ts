/**
 * The baselines of issue 15 start, echo correctly and stop: the protocol floor (raw ws server at
 * /floor, with the reference's AEAD) and the Socket.IO echo. No wall-clock assertions.
 */
import { io } from "socket.io-client";
import { describe, expect, test } from "vitest";
import WebSocket from "ws";
import { FloorRequester, FloorResponder } from "../src/baseline/floor.ts";
import { startRawServer } from "../src/baseline/raw-echo-server.ts";
import { ECHO_EVENT, startSocketIoServer } from "../src/baseline/socketio-echo-server.ts";

const inner = { task_id: "t0", action: "echo", params: { p: "x".repeat(1024) } };

function nextMessage(ws: WebSocket): Promise<string> {
  return new Promise((resolve, reject) => {
    ws.once("message", (data: Buffer) => resolve(data.toString()));
    ws.once("close", (code) => reject(new Error(`closed ${code}`)));
  });
}

describe("the protocol floor", () => {
  test("a request is a record-shaped envelope whose payload is the base64url of an AEAD seal", () => {
    const frame = JSON.parse(new FloorRequester(inner).request()) as Record<string, unknown>;
    expect(Object.keys(frame).sort()).toEqual(["message_id", "payload", "recipient_id", "sender_id", "seq", "session_id", "timestamp", "type", "version"].sort());
    expect(frame.payload).toMatch(/^[A-Za-z0-9_-]+$/);
    // The plaintext's JSON plus the 16-byte tag, in unpadded base64url.
    expect(Buffer.from(frame.payload as string, "base64url").length).toBe(Buffer.byteLength(JSON.stringify(inner)) + 16);
  });

  test("the responder opens each request and seals it back; the requester opens the answer", () => {
    const requester = new FloorRequester(inner);
    const responder = new FloorResponder();
    for (let i = 0; i < 3; i++) {
      const answer = responder.answer(requester.request());
      expect(answer).not.toBeNull();
      expect(JSON.parse(answer as string)).toMatchObject({ type: "TASK_RESPONSE", seq: i + 1 });
      expect(requester.check(answer as string)).toBe(true);
    }
  });

  test("a tampered request does not open, and a request is not accepted as an answer", () => {
    const requester = new FloorRequester(inner);
    const frame = JSON.parse(requester.request()) as { payload: string };
    const sealed = Buffer.from(frame.payload, "base64url");
    sealed[0] = (sealed[0] as number) ^ 1;
    expect(new FloorResponder().answer(JSON.stringify({ ...frame, payload: sealed.toString("base64url") }))).toBeNull();
    expect(new FloorResponder().answer("not json")).toBeNull();
    expect(requester.check(requester.request())).toBe(false);
  });

  test("the raw server serves it at /floor over ws, beside the raw echo, and stops", async () => {
    const server = await startRawServer();
    try {
      const ws = new WebSocket(`${server.url.replace(/^http/, "ws")}/floor`);
      await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
      const requester = new FloorRequester(inner);
      for (let i = 0; i < 3; i++) {
        const answer = nextMessage(ws);
        ws.send(requester.request());
        expect(requester.check(await answer)).toBe(true);
      }
      const closed = new Promise<number>((resolve) => ws.once("close", (code) => resolve(code)));
      ws.send("{}");
      expect(await closed).toBe(1008);
    } finally {
      await server.close();
    }
  });
});

describe("the Socket.IO echo", () => {
  test("it acknowledges each echo event with the same payload, and stops", async () => {
    const server = await startSocketIoServer();
    const socket = io(server.url, { transports: ["websocket"], forceNew: true, reconnection: false });
    try {
      for (const p of ["x".repeat(1024), "y"]) expect(await socket.timeout(10_000).emitWithAck(ECHO_EVENT, { p })).toEqual({ p });
    } finally {
      socket.close();
      await server.close();
    }
    await expect(fetch(`${server.url}/socket.io/?EIO=4&transport=polling`)).rejects.toThrow();
  });
});
