/**
 * What every abusive load is: started once, runs its peers in loops (each peer reconnects as the
 * server cuts it off, so the pressure stays constant), stopped once, and counts what happened.
 */
import type { Limits } from "../../../reference/src/limits.ts";
import type { Counts, SeenByPeers } from "../counts.ts";

export interface LoadContext {
  /** The server's http base URL, e.g. http://127.0.0.1:40123. */
  baseUrl: string;
  wsUrl: string;
  host: string;
  port: number;
  serverId: string;
  /** The server's limits, from discovery (PP-TRN-015). */
  limits: Limits;
  /** Every ERROR code, close code and HTTP status the abusive peers see. */
  seen: SeenByPeers;
}

export interface Load {
  readonly name: string;
  /** What the load did, by name ("connections opened", "closed by the server", ...). */
  readonly counts: Counts;
  start(): void;
  /** Stops every loop and drops every connection the load holds. */
  stop(): Promise<void>;
}
