/**
 * Where GET /metrics is served: a scraper holds no token, so under --require-token the public
 * listener serves no metrics, and `--metrics-port` gives them a listener of their own.
 */
import { describe, expect, test } from "vitest";
import { parseServerArgs, UsageError } from "../src/cli/peer-server.ts";
import { serversPerTest } from "./support/servers.ts";

const { server } = serversPerTest();

const status = async (url: string): Promise<number> => (await fetch(url)).status;

describe("GET /metrics", () => {
  test("on the public listener when tokens are not required", async () => {
    const s = await server();
    const response = await fetch(`${s.url}/metrics`);
    expect(response.status).toBe(200);
    expect(await response.text()).toMatch(/^pp_held_bytes 0$/m);
  });

  test("not on the public listener under --require-token, without a token or with one", async () => {
    const s = await server({ requireToken: true });
    expect(await status(`${s.url}/metrics`)).toBe(404);
    expect(s.metricsUrl).toBeUndefined();
  });

  test("on its own listener with --metrics-port, and then only there, tokens or not", async () => {
    for (const requireToken of [true, false]) {
      const s = await server({ requireToken, metrics: { port: 0 } });
      expect(s.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      const response = await fetch(s.metricsUrl as string);
      expect(response.status).toBe(200);
      expect(await response.text()).toMatch(/^# TYPE pp_sessions gauge$/m);
      expect(await status(`${s.url}/metrics`)).toBe(404);
      expect(await status((s.metricsUrl as string).replace("/metrics", "/peers/poll"))).toBe(404);
    }
  });
});

describe("peer-server's metrics flags", () => {
  test("--metrics-port and --metrics-host become the metrics listener", () => {
    expect(parseServerArgs(["--metrics-port", "9464"])).toMatchObject({ metrics: { host: "127.0.0.1", port: 9464 } });
    expect(parseServerArgs(["--metrics-port", "0", "--metrics-host", "0.0.0.0"])).toMatchObject({ metrics: { host: "0.0.0.0", port: 0 } });
    expect(parseServerArgs([])).not.toHaveProperty("metrics");
  });

  test("bad values are refused with a message naming the flag", () => {
    expect(() => parseServerArgs(["--metrics-port", "70000"])).toThrow(new UsageError("--metrics-port expects an integer from 0 to 65535, got 70000"));
    expect(() => parseServerArgs(["--metrics-port", "x"])).toThrow(/--metrics-port expects a non-negative integer/);
    expect(() => parseServerArgs(["--metrics-host", "0.0.0.0"])).toThrow(new UsageError("--metrics-host needs --metrics-port"));
  });
});
