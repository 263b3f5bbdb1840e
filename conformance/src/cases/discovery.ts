/**
 * Spec §4.4 (discovery): the document is served without a token, follows its schema, and states
 * the identity key and limits the server really uses.
 */
import { suite } from "../case.ts";
import { jcsEqual } from "./support.ts";

export const discoveryCases = suite("discovery", "4.4 Discovery", [
  {
    id: "served-without-token",
    title: "A server serves the discovery document at GET /peers/capabilities without a token",
    requirements: ["PP-TRN-014", "PP-TRN-007"],
    level: "MUST",
    async run(ctx) {
      const response = await ctx.http("GET", "/peers/capabilities");
      ctx.check(response.status === 200, "HTTP 200", `HTTP ${response.status}`);
      ctx.check(response.json !== undefined && typeof response.json === "object" && !Array.isArray(response.json), "a JSON object", response.text.slice(0, 200));
      ctx.check(/application\/json/.test(response.headers["content-type"] ?? ""), "Content-Type application/json", response.headers["content-type"] ?? "no Content-Type");
    },
  },
  {
    id: "schema",
    title: "The discovery document follows its schema (protocol, versions, server_id, identity_key, transports, capabilities, limits, auth) and advertises both transports",
    requirements: ["PP-TRN-014", "PP-ENV-001", "PP-CAP-010"],
    level: "MUST",
    async run(ctx) {
      const validators = ctx.validators;
      if (!validators) return ctx.skip("schema validators are disabled");
      const response = await ctx.http("GET", "/peers/capabilities");
      const result = validators.validateDiscovery(response.json, { strict: true });
      ctx.check(result.ok, "a discovery document that validates against schemas/json/1.2/discovery.json", result.ok ? "" : `schema violation: ${result.path} ${result.error}`);
      const doc = response.json as Record<string, unknown>;
      ctx.check(Array.isArray(doc.versions) && doc.versions.includes("1.2"), 'versions including "1.2"', JSON.stringify(doc.versions));
      // PP-CAP-010: both transports are always implemented, so always advertised.
      const capabilities = Array.isArray(doc.capabilities) ? doc.capabilities : [];
      ctx.check(capabilities.includes("websocket") && capabilities.includes("http"), 'capabilities including "websocket" and "http" (PP-CAP-010)', JSON.stringify(doc.capabilities));
    },
  },
  {
    id: "identity-key",
    title: "The discovery identity_key is the key the server uses and signs with in the handshake",
    requirements: ["PP-TRN-016", "PP-HS-016"],
    level: "MUST",
    async run(ctx) {
      if (!ctx.target.identityKey) ctx.fail("a discovery document with identity_key", ctx.target.discoveryError ?? "no identity_key");
      // The probe verified sig_R with the INIT_ACK key; equality with discovery closes the chain.
      const probe = await ctx.session();
      const used = (probe.initAck?.payload as Record<string, unknown>).identity_key;
      ctx.check(used === ctx.target.identityKey, `HANDSHAKE_INIT_ACK.identity_key ${ctx.target.identityKey}`, `identity_key ${String(used)}`);
      ctx.check(probe.initAck?.sender_id === ctx.target.serverId, `HANDSHAKE_INIT_ACK.sender_id equal to server_id ${ctx.target.serverId}`, String(probe.initAck?.sender_id));
    },
  },
  {
    id: "limits-match-handshake",
    title: "The discovery limits equal the limits of HANDSHAKE_INIT_ACK",
    requirements: ["PP-TRN-015", "PP-CAP-002"],
    level: "MUST",
    async run(ctx) {
      const advertised = ctx.target.discovery?.limits;
      if (!advertised) ctx.fail("a discovery document with limits", ctx.target.discoveryError ?? "no limits");
      const probe = await ctx.probe();
      await probe.handshake({ until: "INIT_ACK" });
      const limits = (probe.initAck?.payload as Record<string, unknown>).limits;
      ctx.check(jcsEqual(limits, advertised), `HANDSHAKE_INIT_ACK limits ${JSON.stringify(advertised)}`, JSON.stringify(limits));
    },
  },
]);
