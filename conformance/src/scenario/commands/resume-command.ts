/**
 * `A resumes`: SESSION_RESUME on a new WebSocket (spec §8), re-sending what the target's
 * last_rx_seq does not cover (PP-SES-010). Optionally a resume with a wrong binder comes first,
 * which must be refused and leave the session as it was (PP-SES-003, PP-SES-017).
 */
import type { EntityName } from "../messages.ts";
import type { ScenarioModel } from "../model.ts";
import type { ScenarioWorld } from "../world.ts";
import type { ScenarioCommand } from "./command.ts";

export class ResumeCommand implements ScenarioCommand {
  constructor(
    readonly entity: EntityName,
    readonly wrongBinderFirst: boolean,
  ) {}

  check(model: Readonly<ScenarioModel>): boolean {
    return model.entities[this.entity].session === "live";
  }

  async run(model: ScenarioModel, world: ScenarioWorld): Promise<void> {
    model.entities[this.entity].transport = "websocket";
    const peer = world.peers[this.entity];
    const status = await peer.resume({ wrongBinder: this.wrongBinderFirst });
    if (status !== "READY" && status !== "NEW_SESSION") {
      peer.violate(`a resume of a live session within resume_window_ms was answered with status ${status}`, ["PP-SES-011", "PP-SES-013"]);
      await peer.connect("websocket");
    }
  }

  toString(): string {
    return this.wrongBinderFirst ? `${this.entity} resumes, first with a wrong binder` : `${this.entity} resumes`;
  }
}
