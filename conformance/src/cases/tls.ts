/** Spec §4.7 (TLS): required for every connection that leaves the loopback interface. */
import { isIP } from "node:net";
import { connect } from "node:tls";
import { suite } from "../case.ts";

const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\]|::1)$/i;

export const tlsCases = suite("tls", "4.7 TLS", [
  {
    id: "required-off-loopback",
    title: "A target reached over a non-loopback address is served over TLS (wss:, https:)",
    requirements: ["PP-TRN-017"],
    level: "MUST",
    async run(ctx) {
      const url = new URL(ctx.target.baseUrl);
      if (LOOPBACK.test(url.hostname)) ctx.skip(`${url.hostname} is a loopback address`);
      ctx.check(url.protocol === "https:", `https:/wss: for ${url.hostname}, which is not loopback`, `${url.protocol.replace(":", "")}://`);
    },
  },
  {
    id: "tls13",
    title: "A TLS target negotiates TLS 1.3",
    requirements: ["PP-TRN-018"],
    level: "SHOULD",
    async run(ctx) {
      const url = new URL(ctx.target.baseUrl);
      if (url.protocol !== "https:") ctx.skip("the target does not use TLS");
      // No IP address as the SNI server name (RFC 6066 §3).
      const host = url.hostname.replace(/^\[|\]$/g, "");
      const version = await new Promise<string>((resolve, reject) => {
        const socket = connect({ host, port: Number(url.port || 443), servername: isIP(host) ? undefined : host, rejectUnauthorized: false }, () => {
          resolve(socket.getProtocol() ?? "unknown");
          socket.end();
        });
        socket.on("error", reject);
      });
      ctx.check(version === "TLSv1.3", "TLSv1.3", version);
    },
  },
]);
