/**
 * `the proxy cuts A->server after 70,123 more bytes`: arms a cut on the entity's link. It falls
 * wherever those bytes end: inside a frame, a chunk burst, a handshake or a resume.
 */
import type { Direction } from "../../proxy/link-proxy.ts";
import type { EntityName } from "../messages.ts";
import type { ScenarioModel } from "../model.ts";
import type { ScenarioWorld } from "../world.ts";
import type { ScenarioCommand } from "./command.ts";

export class CutCommand implements ScenarioCommand {
  constructor(
    readonly entity: EntityName,
    readonly direction: Direction,
    readonly afterBytes: number,
  ) {}

  /** On a WebSocket session, or before a connect, where it falls mid-handshake (HTTP connections are not cut). */
  check(model: Readonly<ScenarioModel>): boolean {
    const entity = model.entities[this.entity];
    return entity.session === "live" ? entity.transport === "websocket" : true;
  }

  async run(_model: ScenarioModel, world: ScenarioWorld): Promise<void> {
    void world.links[this.entity].armCut(this.direction, this.afterBytes);
  }

  toString(): string {
    const path = this.direction === "up" ? `${this.entity}->server` : `server->${this.entity}`;
    return `the proxy cuts ${path} after ${this.afterBytes.toLocaleString("en-US")} more bytes`;
  }
}
