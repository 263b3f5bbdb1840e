/**
 * Generated scenarios: fast-check command lists over two or three probe entities, built from the
 * limits the target advertises so that every bound is within reach (a burst of messages larger
 * than retransmit_buffer, messages of a few chunks, cuts anywhere in a chunk burst).
 */
import fc from "fast-check";
import type { Direction } from "../proxy/link-proxy.ts";
import { ByeCommand } from "./commands/bye-command.ts";
import type { ScenarioCommand } from "./commands/command.ts";
import { ConnectCommand, type ConnectVia } from "./commands/connect-command.ts";
import { CutCommand } from "./commands/cut-command.ts";
import { DelayCommand } from "./commands/delay-command.ts";
import { HoldAcksCommand } from "./commands/hold-acks-command.ts";
import { INVALID_INPUTS, InvalidInputCommand, type InvalidInput } from "./commands/invalid-input-command.ts";
import { RepeatCommand } from "./commands/repeat-command.ts";
import { ResumeCommand } from "./commands/resume-command.ts";
import { SendCommand } from "./commands/send-command.ts";
import { SplitCommand } from "./commands/split-command.ts";
import { WaitCommand } from "./commands/wait-command.ts";
import type { EntityName } from "./messages.ts";

export interface ScenarioSettings {
  entities: readonly EntityName[];
  limits: Record<string, number>;
  capabilities: readonly string[];
  maxCommands: number;
  /** The commands' replay hint of a counterexample (fast-check `replayPath`). */
  replayPath?: string;
}

/**
 * A scenario: two or three entities connect (each over a generated transport), then the generated
 * commands run. Connecting first keeps most generated commands applicable; later connects (after
 * a BYE) come from the commands themselves.
 */
export function scenarioArbitrary(settings: ScenarioSettings): fc.Arbitrary<Scenario> {
  const via = connectVias(settings.capabilities);
  const opening = fc.integer({ min: 2, max: settings.entities.length }).chain((n) => fc.tuple(...settings.entities.slice(0, n).map((e) => fc.constantFrom(...via).map((v) => new ConnectCommand(e, v, settings.capabilities)))));
  return fc.tuple(opening, commandsArbitrary(settings)).map(([connects, commands]) => new Scenario(connects, commands));
}

/** The opening connects and the generated commands, iterated in that order by `asyncModelRun`. */
export class Scenario implements Iterable<ScenarioCommand> {
  constructor(
    readonly opening: readonly ScenarioCommand[],
    readonly commands: Iterable<ScenarioCommand>,
  ) {}

  *[Symbol.iterator](): Iterator<ScenarioCommand> {
    yield* this.opening;
    yield* this.commands;
  }

  toString(): string {
    return `${this.opening.map(String).join(", ")}, ${String(this.commands)}`;
  }
}

function connectVias(capabilities: readonly string[]): ConnectVia[] {
  return capabilities.includes("http") ? ["websocket", "websocket", "http", "http-then-websocket"] : ["websocket"];
}

function commandsArbitrary(settings: ScenarioSettings): fc.Arbitrary<Iterable<ScenarioCommand>> {
  const { entities, limits, capabilities } = settings;
  const maxChunk = limits.max_chunk_bytes ?? 262_144;
  // Pieces of at most max_chunk_bytes (spec §10), small enough that each record fits in a frame.
  const chunkSize = Math.max(1024, Math.min(maxChunk, Math.floor((((limits.max_frame_bytes ?? 1_048_576) - 2048) * 3) / 4)));
  const largest = Math.max(maxChunk + 1, Math.min(Math.floor(maxChunk * 3.6), (limits.max_message_bytes ?? 16_777_216) - 1024));
  const bound = limits.retransmit_buffer ?? 1024;
  const entity = fc.constantFrom(...entities);
  const direction = fc.constantFrom<Direction>("up", "down");
  const via = fc.constantFrom<ConnectVia>(...connectVias(capabilities));
  // A large message of 2 to 4 chunks; its bytes on the wire are about 4/3 of its size (base64url).
  // A cut inside a message's bytes: on the sender's link or on the recipient's (fraction of its wire size).
  const cutInside = fc.option(fc.record({ side: fc.constantFrom<"up" | "down">("up", "up", "down"), at: fc.double({ min: 0.05, max: 0.95, noNaN: true }) }), { nil: undefined, freq: 2 });
  const large = fc.record({ size: fc.integer({ min: maxChunk + 1, max: largest }), reorder: fc.option(fc.oneof(fc.constant("reversed" as const), fc.record({ rotate: fc.integer({ min: 1, max: 3 }) })), { nil: undefined, freq: 3 }), duplicateChunk: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined, freq: 4 }), cut: cutInside });
  const small = fc.record({ size: fc.integer({ min: 1, max: 400 }) });
  // Bursts around the recipient's bound, on both sides of it (retransmit_buffer - 1 … + 2).
  const burst = fc.record({ size: fc.integer({ min: 1, max: 200 }), count: fc.oneof(fc.integer({ min: 2, max: 6 }), fc.integer({ min: Math.max(2, bound - 1), max: bound + 2 })), cut: cutInside });
  // Messages over max_chunk_bytes only when the target offers chunking (PP-CAP-001).
  const shape = capabilities.includes("chunking") ? fc.oneof({ weight: 3, arbitrary: small }, { weight: 3, arbitrary: large }, { weight: 3, arbitrary: burst }) : fc.oneof(small, burst);
  const recipient = fc.constantFrom<EntityName | "server">(...entities, "server");
  const burstBytes = Math.floor(largest * 1.4);
  const cutAfter = fc.oneof(fc.integer({ min: 0, max: 2000 }), fc.integer({ min: 2000, max: burstBytes }));

  const connect = fc.tuple(entity, via).map(([e, v]) => new ConnectCommand(e, v, capabilities));
  const send = fc.tuple(entity, recipient, shape).map(([from, to, s]) => new SendCommand(from, to, s, chunkSize));
  const repeat = entity.map((e) => new RepeatCommand(e));
  const holdAcks = fc.tuple(entity, fc.boolean()).map(([e, hold]) => new HoldAcksCommand(e, hold));
  // A cut at once resets what is in flight (the kernel's buffers too); a cut after N bytes falls later.
  const cut = fc.tuple(entity, direction, fc.oneof(fc.constant(0), cutAfter)).map(([e, d, n]) => new CutCommand(e, d, n));
  const delay = fc.tuple(entity, direction, fc.integer({ min: 50, max: 400 })).map(([e, d, ms]) => new DelayCommand(e, d, ms));
  const split = fc.tuple(entity, direction, fc.integer({ min: 512, max: 4096 })).map(([e, d, n]) => new SplitCommand(e, d, n));
  const wait = fc.integer({ min: 20, max: 400 }).map((ms) => new WaitCommand(ms));
  const bye = entity.map((e) => new ByeCommand(e));
  const invalid = fc.tuple(entity, fc.constantFrom(...(Object.keys(INVALID_INPUTS) as InvalidInput[]))).map(([e, input]) => new InvalidInputCommand(e, input));
  const resume = fc.tuple(entity, fc.oneof({ weight: 3, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) })).map(([e, wrong]) => new ResumeCommand(e, wrong));
  // fast-check picks uniformly among these: repeating an entry weights it.
  const commands: fc.Arbitrary<ScenarioCommand>[] = [connect, send, send, send, send, repeat, holdAcks, holdAcks, cut, cut, cut, delay, split, wait, bye, invalid];
  if (capabilities.includes("resume")) commands.push(resume, resume);
  return fc.commands(commands, { maxCommands: settings.maxCommands, size: "max", ...(settings.replayPath ? { replayPath: settings.replayPath } : {}) });
}
