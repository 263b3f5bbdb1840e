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

/**
 * The harness failed, not the target: an exception in the probe or a case (a bug in
 * peer-conformance), or the target gone mid-run. The case's verdict is `error`: no verdict on the
 * target is drawn from it, and the run exits 2.
 */
export class HarnessError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "HarnessError";
  }

  /** An unexpected exception as a harness error, naming where it was thrown so that it can be reported. */
  static from(error: unknown): HarnessError {
    if (error instanceof HarnessError) return error;
    if (!(error instanceof Error)) return new HarnessError(`the harness raised ${String(error)}`);
    const at = error.stack?.split("\n").find((line) => /conformance\/src\//.test(line))?.trim().replace(/^at\s+/, "");
    return new HarnessError(`the harness raised ${error.name}: ${error.message}${at ? ` (at ${at.replace(/^.*?(conformance\/src\/)/, "$1").replace(/\)$/, "")})` : ""}; this is a bug in peer-conformance, not in the target`, { cause: error });
  }
}
