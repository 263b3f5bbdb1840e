/**
 * Capability names (section 11, registry 17.3). Lists accept any well-formed name because an
 * endpoint must ignore names it does not know (PP-CAP-005); the registry's names are the examples.
 */
import { Type, type Static } from "@sinclair/typebox";
import { CAPABILITIES } from "../registry.ts";

export const CapabilityNameSchema = Type.String({
  pattern: "^[a-z0-9-]{1,64}$",
  description: `A capability name; the registry (section 17.3) defines ${CAPABILITIES.join(", ")}. Unknown names in an offer are ignored (PP-CAP-005).`,
  examples: [...CAPABILITIES],
});
export type CapabilityName = Static<typeof CapabilityNameSchema>;

export const CapabilityListSchema = Type.Array(CapabilityNameSchema, {
  uniqueItems: true,
  description: "A set of capability names (section 11).",
  examples: [["websocket", "resume", "chunking"], []],
});
export type CapabilityList = Static<typeof CapabilityListSchema>;
