/**
 * `A sends m3 again (same message_id)`: a duplicate of A's last message as new records. The
 * target must acknowledge it (PP-DLV-004) and deliver the message once (PP-DLV-003).
 */
import type { EntityName, OutMessage } from "../messages.ts";
import type { ScenarioModel } from "../model.ts";
import type { ScenarioWorld } from "../world.ts";
import type { ScenarioCommand } from "./command.ts";

export class RepeatCommand implements ScenarioCommand {
  private repeated: OutMessage | null = null;

  constructor(readonly entity: EntityName) {}

  check(model: Readonly<ScenarioModel>): boolean {
    const entity = model.entities[this.entity];
    // At most the size of a large message: the budget check stays conservative.
    return entity.hasSent && model.canSend(this.entity, 6);
  }

  async run(model: ScenarioModel, world: ScenarioWorld): Promise<void> {
    const peer = world.peers[this.entity];
    const last = peer.sent.at(-1);
    if (!last) return;
    model.entities[this.entity].records += last.records.length;
    this.repeated = last;
    peer.repeat(last.records);
  }

  toString(): string {
    return `${this.entity} sends ${this.repeated?.name ?? "its last message"} again (same message_id)`;
  }
}
