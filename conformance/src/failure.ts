/**
 * How a case reports its outcome (h2spec style): a failure names what the spec expected (one or
 * more acceptable outcomes) and what the target actually did. Local to the runner; these are not
 * protocol error codes.
 */
export class CaseFailure extends Error {
  readonly actual: string;

  constructor(
    readonly expected: string[],
    actual: string,
    message?: string,
  ) {
    // A case may pass what it read as is (JSON.stringify of undefined is undefined): the report needs text.
    const text = typeof actual === "string" ? actual : String(actual);
    super(message ?? `expected ${expected.join(" or ")}; got ${text}`);
    this.actual = text;
    this.name = "CaseFailure";
  }
}

/** Thrown by a case (or the runner) when the case does not apply to the target. */
export class CaseSkip extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = "CaseSkip";
  }
}

/** A fast-check property that failed: the failure plus what is needed to replay it exactly. */
export class PropertyFailure extends CaseFailure {
  constructor(
    inner: CaseFailure,
    readonly counterexample: string,
    readonly seed: number,
    readonly path: string,
  ) {
    super(inner.expected, inner.actual, inner.message);
    this.name = "PropertyFailure";
  }
}
