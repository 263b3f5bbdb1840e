/** Flags: defaults, bounds, and usage errors that name the flag and the expected form (exit 2). */
import { afterEach, describe, expect, test, vi } from "vitest";
import { main, parseBenchArgs, UsageError } from "../src/cli.ts";
import { baseUrlOf, isLoopbackHost } from "../src/target.ts";

afterEach(() => vi.restoreAllMocks());

function options(argv: string[]) {
  const parsed = parseBenchArgs(argv);
  if (parsed === "help") throw new Error("unexpected help");
  return parsed;
}

describe("peer-bench flags", () => {
  test("no flags: the embedded target, every scenario but the opt-in ones (tail, and the two that need Redis), full size, pretty on stdout", () => {
    const o = options([]);
    expect(o.target).toBeUndefined();
    expect(o.scenarios).toEqual(["handshake", "echo", "fanout", "sessions", "resume", "http"]);
    expect(o.sessions).toBe(10_000);
    expect(o.reporters).toEqual([{ kind: "pretty" }]);
  });

  test("--quick shrinks every scenario; explicit flags still win", () => {
    const o = options(["--quick", "--sessions", "500", "--scenario", "echo,http", "--scenario", "handshake"]);
    expect(o.quick).toBe(true);
    expect(o.sessions).toBe(500);
    expect(o.durationS).toBeLessThan(1);
    expect(o.scenarios).toEqual(["handshake", "echo", "http"]);
  });

  test("--load-workers spreads the load generator over N worker threads; tail runs when named", () => {
    expect(options(["--load-workers", "3"]).workers).toBe(3);
    expect(options(["--workers", "2"]).workers).toBe(2);
    expect(options(["--scenario", "tail"]).scenarios).toEqual(["tail"]);
    expect(options(["--scenario", "workers,cluster"]).scenarios).toEqual(["cluster", "workers"]);
  });

  test("payload sizes accept k suffixes; reporters take files", () => {
    const o = options(["--payload-sizes", "64,1k,384k", "--reporter", "json=out/r.json", "--reporter", "html=out/r.html", "--reporter", "pretty"]);
    expect(o.payloadSizes).toEqual([64, 1024, 393_216]);
    expect(o.reporters).toEqual([{ kind: "json", file: "out/r.json" }, { kind: "html", file: "out/r.html" }, { kind: "pretty" }]);
  });

  test.each([
    [["--duration", "fast"], /--duration expects a number from 0.1 to 60/],
    [["--duration", "600"], /--duration expects a number from 0.1 to 60, got 600/],
    [["--connections", "0"], /--connections expects an integer from 1 to 1000/],
    [["--sessions", "1e9"], /--sessions expects an integer from 1 to 50000/],
    [["--payload-sizes", "1,two"], /--payload-sizes expects comma-separated byte counts/],
    [["--reporter", "xml"], /--reporter expects pretty\|json\|markdown\|html\[=FILE\]/],
    [["--reporter", "html"], /--reporter html needs a file/],
    [["--reporter", "json", "--reporter", "pretty"], /at most one reporter may write to stdout/],
    [["--scenario", "warp"], /--scenario expects one of handshake, echo, tail, fanout, sessions, resume, http, cluster, workers; got warp/],
    [["--load-workers", "0"], /--load-workers expects an integer from 1 to 8, got 0/],
    [["--load-workers", "2", "--workers", "2"], /--workers is the older name of --load-workers/],
    [["--server-pid", "12"], /--server-pid is for an explicit local TARGET/],
    [["a", "b"], /expected at most one TARGET/],
    [["--frobnicate"], /--frobnicate/],
  ])("%j is a usage error naming the flag", (argv, message) => {
    expect(() => parseBenchArgs(argv)).toThrow(UsageError);
    expect(() => parseBenchArgs(argv)).toThrow(message);
  });

  test("main answers a usage error with exit code 2 and a message on stderr", async () => {
    const errors: string[] = [];
    vi.spyOn(console, "error").mockImplementation((text: string) => void errors.push(text));
    expect(await main(["--workers", "99"])).toBe(2);
    expect(errors.join("\n")).toMatch(/--workers expects an integer from 1 to 8, got 99/);
  });
});

describe("targets are loopback unless given explicitly", () => {
  test.each([
    ["http://127.0.0.1:8080", true],
    ["ws://localhost:8080/ws/v1/peers", true],
    ["http://[::1]:8080", true],
    ["https://10.0.0.5:443", false],
    ["wss://peer.example.com/ws/v1/peers", false],
  ])("%s", (target, loopback) => {
    expect(baseUrlOf(target).loopback).toBe(loopback);
  });

  test("a ws endpoint URL maps to its http base", () => {
    expect(baseUrlOf("wss://peer.example.com:8443/ws/v1/peers").url).toBe("https://peer.example.com:8443");
    expect(baseUrlOf("ws://127.0.0.1:9/ws/v1/peers?x=1").url).toBe("http://127.0.0.1:9");
  });

  test("other schemes and non-URLs are refused", () => {
    expect(() => baseUrlOf("ftp://127.0.0.1")).toThrow(/http, https, ws or wss/);
    expect(() => baseUrlOf("127.0.0.1:8080")).toThrow(/TARGET expects/);
  });

  test("loopback host names", () => {
    expect(isLoopbackHost("127.8.9.10")).toBe(true);
    expect(isLoopbackHost("128.0.0.1")).toBe(false);
    expect(isLoopbackHost("localhost.evil.com")).toBe(false);
  });
});
