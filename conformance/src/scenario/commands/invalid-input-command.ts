/**
 * `A sends a record with a replayed seq`: one malformed input in a READY session over the
 * WebSocket, breaking exactly one thing, and the error registry row it must get (spec §17.2):
 * the code, and the connection kept open (PP-ERR-004) or closed with the row's code (PP-ERR-003).
 * An input refused before it authenticates does not use up its seq (PP-RPL-008).
 */
import { errorRow } from "../../schemas.ts";
import type { EntityName } from "../messages.ts";
import type { ScenarioModel } from "../model.ts";
import type { ScenarioWorld } from "../world.ts";
import type { ScenarioCommand } from "./command.ts";

export const INVALID_INPUTS = {
  "unknown-type": { code: "INVALID_MESSAGE", text: "a record of an unknown type", requirements: ["PP-ENV-008", "PP-ERR-004"] },
  "missing-timestamp": { code: "INVALID_MESSAGE", text: "a record without timestamp", requirements: ["PP-ENV-007", "PP-ERR-004"] },
  "bad-base64url": { code: "INVALID_MESSAGE", text: "a record whose payload is not base64url", requirements: ["PP-ENV-004", "PP-ERR-004"] },
  "other-session-id": { code: "INVALID_MESSAGE", text: "a record naming another session_id", requirements: ["PP-KS-012", "PP-ERR-004"] },
  "replayed-seq": { code: "REPLAY_DETECTED", text: "a record with a replayed seq", requirements: ["PP-RPL-003", "PP-ERR-004"] },
  "seq-gap": { code: "INVALID_STATE", text: "a record whose seq skips one", requirements: ["PP-RPL-004", "PP-ERR-003"] },
} as const;
export type InvalidInput = keyof typeof INVALID_INPUTS;

export class InvalidInputCommand implements ScenarioCommand {
  constructor(
    readonly entity: EntityName,
    readonly input: InvalidInput,
  ) {}

  check(model: Readonly<ScenarioModel>): boolean {
    const entity = model.entities[this.entity];
    return entity.session === "live" && entity.transport === "websocket";
  }

  async run(_model: ScenarioModel, world: ScenarioWorld): Promise<void> {
    const peer = world.peers[this.entity];
    const probe = peer.probe;
    // Only on a connection that is up: the input is about the session, not about a cut.
    if (!probe || !peer.connected) return;
    const spec = INVALID_INPUTS[this.input];
    const row = errorRow(spec.code);
    const messageId = `bad-${probe.newId("in")}`;
    const ping = { ping_id: `p-${messageId}` };
    const next = probe.txSeq;
        const outcome = peer.expectError(spec.code, messageId);
    switch (this.input) {
      case "unknown-type":
        probe.sendRecord("NOT_A_TYPE", ping, { seq: next, envelope: { message_id: messageId } });
        break;
      case "missing-timestamp":
        probe.sendRecord("PING", ping, { seq: next, envelope: { message_id: messageId, timestamp: undefined } });
        break;
      case "bad-base64url":
        probe.sendRecord("PING", ping, { seq: next, envelope: { message_id: messageId }, after: (e) => ({ ...e, payload: `${String(e.payload)}*` }) });
        break;
      case "other-session-id":
        probe.sendRecord("PING", ping, { seq: next, envelope: { message_id: messageId, session_id: `sess_${"A".repeat(22)}` } });
        break;
      case "replayed-seq":
        if (next === 0) probe.sendRecord("PING", { ping_id: `p0-${messageId}` });
        probe.sendRecord("PING", ping, { seq: Math.max(0, probe.txSeq - 1), envelope: { message_id: messageId } });
        break;
      case "seq-gap":
        probe.sendRecord("PING", ping, { seq: next + 1, envelope: { message_id: messageId } });
        break;
    }
    // The ERROR (and, for a closing row, the close) must come within a few seconds; a cut ends the wait.
    const box: { result: { code: string; closedWith?: number } | null | "timeout" } = { result: "timeout" };
    void outcome.then((r) => (box.result = r));
    const deadline = Date.now() + (world.ctx.limits.ack_delay_ms ?? 100) + 3000;
    while (box.result === "timeout" && Date.now() < deadline && !peer.cutSinceAttach && (probe.isOpen || row?.connection === "close")) await peer.changed(50);
    // A close seen on the socket may come before the records that preceded it have been read.
    if (!probe.isOpen) await peer.drained(probe, 1000);
    const result = box.result;
    if (peer.cutSinceAttach) return peer.cancelExpectations(); // a cut fell meanwhile: nothing to conclude
    if (result === "timeout") {
      peer.cancelExpectations();
      // The connection was closing for another ERROR (a full queue, say) before this input was read.
      if (peer.closingErrorOn(probe) !== undefined) return;
      peer.violate(`${spec.text} got no ERROR ${spec.code}${probe.isOpen ? "" : ` before the connection closed (${String(probe.closed?.code)})`}`, [...spec.requirements]);
      return;
    }
    if (result === null) return;
    if (result.code !== spec.code) peer.violate(`${spec.text} got ERROR ${result.code}, not ${spec.code}`, [...spec.requirements]);
    else if (row?.connection === "close" && result.closedWith !== row.close) peer.violate(`after ERROR ${spec.code} the connection closed with ${String(result.closedWith)}, not ${String(row.close)}`, ["PP-ERR-003"]);
    else if (row?.connection === "open") {
      await world.ctx.sleep(50);
      if (!probe.isOpen) await peer.drained(probe, 1000);
      // Closed by a cut, or by another ERROR whose row closes (a full queue), says nothing about this one.
      if (!probe.isOpen && !peer.cutSinceAttach && peer.closingErrorOn(probe) === undefined) peer.violate(`after ERROR ${spec.code} the connection closed (code ${String(probe.closed?.code)}), but the registry keeps it open`, ["PP-ERR-004"]);
    }
  }

  toString(): string {
    const spec = INVALID_INPUTS[this.input];
    const row = errorRow(spec.code);
    return `${this.entity} sends ${spec.text} (expects ERROR ${spec.code}, connection ${row?.connection === "close" ? `closed ${String(row.close)}` : "open"})`;
  }
}
