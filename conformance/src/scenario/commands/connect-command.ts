/** `A connects over websocket`: a new session by the handshake (spec §6) on one of the transports. */
import type { EntityName } from "../messages.ts";
import type { ScenarioModel } from "../model.ts";
import type { ScenarioWorld } from "../world.ts";
import type { ScenarioCommand } from "./command.ts";

/** Option B (WebSocket), the HTTP binding, or option A: HTTP handshake then resume on a WebSocket (spec §4.1). */
export type ConnectVia = "websocket" | "http" | "http-then-websocket";

export class ConnectCommand implements ScenarioCommand {
  constructor(
    readonly entity: EntityName,
    readonly via: ConnectVia,
    private readonly capabilities: readonly string[],
  ) {}

  check(model: Readonly<ScenarioModel>): boolean {
    if (model.entities[this.entity].session !== "none") return false;
    if (this.via !== "websocket" && !this.capabilities.includes("http")) return false;
    return this.via !== "http-then-websocket" || this.capabilities.includes("resume");
  }

  async run(model: ScenarioModel, world: ScenarioWorld): Promise<void> {
    Object.assign(model.entities[this.entity], { session: "live", transport: this.via === "http" ? "http" : "websocket", holdingAcks: false, records: 0, hasSent: false });
    const peer = world.peers[this.entity];
    if (this.via === "websocket") {
      await peer.connect("websocket");
      return;
    }
    // The proxy's cuts act on WebSocket connections only: the HTTP binding is not cut.
    peer.link.calm();
    await peer.connect("http");
    if (this.via === "http-then-websocket") {
      const status = await peer.resume();
      if (status !== "READY") peer.violate(`option A: the session made over HTTP was not resumed on the WebSocket (status ${status})`, ["PP-TRN-003", "PP-SES-013"]);
    }
  }

  toString(): string {
    return this.via === "websocket" ? `${this.entity} connects over websocket` : this.via === "http" ? `${this.entity} connects over the HTTP binding` : `${this.entity} connects over HTTP, then resumes on a websocket (option A)`;
  }
}
