/**
 * `--token-command CMD`: tokens from outside the target's §4.5 flow, for servers whose tokens come
 * from elsewhere (an identity provider, an admin tool). CMD runs through the shell once per probe
 * identity (token-source.ts caches the answer until it nears expiry) with
 *
 *   PEER_ENTITY_ID    the entity id the token is for (its `sub`, PP-AUTH-007)
 *   PEER_PUBLIC_KEY   the Ed25519 identity key, base64url (its `cnf.jwk.x`)
 *   PEER_PRIVATE_KEY  the identity's Ed25519 seed, base64url, for commands that prove possession
 *                     as §4.5 does (probe identities are throwaway keys of this run)
 *   PEER_TARGET       the target's http(s) base URL
 *
 * and prints the token on stdout. A command that fails (non-zero exit, a signal, no output, or no
 * answer within the timeout) is the harness's problem, not the target's: TokenProviderError, which
 * stops the run with exit code 2 and names the command and its stderr. Neither the token nor the
 * private key is ever written anywhere by the runner (PP-AUTH-008).
 */
import { spawn } from "node:child_process";
import { redactSecrets } from "./redact.ts";
import { TokenProviderError, type TokenProvider } from "./token-source.ts";

export const TOKEN_COMMAND_TIMEOUT_MS = 10_000;
/** Enough of stderr to explain a failure; a command that floods it is cut. */
const MAX_STDERR_CHARS = 2000;

export function commandTokenProvider(command: string, options: { timeoutMs?: number } = {}): TokenProvider {
  const timeoutMs = options.timeoutMs ?? TOKEN_COMMAND_TIMEOUT_MS;
  return (request) =>
    new Promise<string>((resolve, reject) => {
      let settled = false;
      const fail = (what: string, stderr: string) => {
        if (settled) return;
        settled = true;
        const said = redactSecrets(stderr.trim()).slice(0, MAX_STDERR_CHARS);
        reject(new TokenProviderError(`--token-command "${command}" ${what} for entity ${request.entityId}${said ? `; its stderr: ${said}` : " (nothing on stderr)"}`));
      };
      // A process group of its own, so that a timeout ends what the shell started too (a child left
      // running would hold the pipes open and the run would wait for it).
      const child = spawn(command, {
        shell: true,
        detached: true,
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, PEER_ENTITY_ID: request.entityId, PEER_PUBLIC_KEY: request.publicKey, PEER_PRIVATE_KEY: request.privateKey, PEER_TARGET: request.target },
      });
      let stdout = "";
      let stderr = "";
      child.stdout.setEncoding("utf8").on("data", (data: string) => (stdout += data));
      child.stderr.setEncoding("utf8").on("data", (data: string) => {
        if (stderr.length < MAX_STDERR_CHARS * 2) stderr += data;
      });
      const timer = setTimeout(() => {
        fail(`gave no token within ${timeoutMs} ms`, stderr);
        try {
          if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
        } catch {
          // Already gone.
        }
        child.stdout.destroy();
        child.stderr.destroy();
      }, timeoutMs);
      child.on("error", (error) => {
        clearTimeout(timer);
        fail(`could not be started (${error.message})`, stderr);
      });
      child.on("close", (code, signal) => {
        clearTimeout(timer);
        const token = stdout.trim();
        if (code !== 0) fail(signal ? `was killed by ${signal}` : `exited with code ${code}`, stderr);
        else if (token === "") fail("printed no token on stdout", stderr);
        else if (/\s/.test(token)) fail("printed more than one word on stdout (expected the token alone)", stderr);
        else if (!settled) {
          settled = true;
          resolve(token);
        }
      });
    });
}
