/**
 * Deliberate faults for the conformance self-test: each breaks one behaviour of the reference so
 * that a conformance case can be shown to fail (DESIGN.md §5). Never enabled by default.
 */
export const FAULTS = [
  "accept-replayed-init",
  "resend-acknowledged",
  "no-rate-limit",
  "no-dedupe",
  "echo-corrupts",
  "never-ack",
] as const;

export type Fault = (typeof FAULTS)[number];

export class Faults {
  private readonly enabled: ReadonlySet<string>;

  constructor(names: Iterable<string> = []) {
    const list = [...names];
    for (const name of list) if (!(FAULTS as readonly string[]).includes(name)) throw new RangeError(`unknown fault ${name}; known: ${FAULTS.join(", ")}`);
    this.enabled = new Set(list);
  }

  has(name: Fault): boolean {
    return this.enabled.has(name);
  }
}
