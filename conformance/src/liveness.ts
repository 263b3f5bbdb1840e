/**
 * Is the target still there? Asked after a case fails: a target that died (or stopped accepting
 * connections) mid-run would otherwise earn a failure for every case after it. Any HTTP answer to
 * its discovery URL counts as alive, whatever its status: the question is whether the process
 * still answers, not whether discovery is right (the cases check that).
 */
import { describeTlsError } from "./probe/tls.ts";

const ATTEMPTS = 3;
const PAUSE_MS = 500;

/** Null while the target answers HTTP at its base URL; otherwise what the last attempt met. */
export async function stillAnswering(baseUrl: string, timeoutMs: number): Promise<string | null> {
  let last = "";
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, PAUSE_MS));
    try {
      const response = await fetch(`${baseUrl}/peers/capabilities`, { signal: AbortSignal.timeout(timeoutMs) });
      await response.arrayBuffer();
      return null;
    } catch (error) {
      const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
      last = describeTlsError(error) ?? (cause instanceof Error ? `${(cause as NodeJS.ErrnoException).code ?? cause.name}: ${cause.message}` : String(cause));
    }
  }
  return `GET /peers/capabilities: ${last}, ${ATTEMPTS} times over ${((ATTEMPTS - 1) * PAUSE_MS) / 1000} s`;
}
