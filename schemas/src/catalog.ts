/**
 * Every schema by version: the message table (type -> wire envelope and payload) and the other
 * documents (name -> schema). The validators and the JSON emitter read only this catalog.
 */
import type { TSchema } from "@sinclair/typebox";
import type { MessageType, Version } from "./registry.ts";
import { DOCUMENTS_V1_1, MESSAGES_V1_1, type MessageSchemas } from "./v1.1/messages.ts";
import { DOCUMENTS_V1_2, MESSAGES_V1_2 } from "./v1.2/messages.ts";

export type { MessageSchemas };

export const MESSAGE_SCHEMAS = { "1.1": MESSAGES_V1_1, "1.2": MESSAGES_V1_2 } as const;
export const DOCUMENT_SCHEMAS = { "1.1": DOCUMENTS_V1_1, "1.2": DOCUMENTS_V1_2 } as const;

export type DocumentName = keyof typeof DOCUMENTS_V1_2;
export type V11DocumentName = keyof typeof DOCUMENTS_V1_1;

/** The message schemas of `version` keyed by type, or undefined for a type the version does not define. */
export function messageSchemas(version: Version, type: string): MessageSchemas | undefined {
  const table: Partial<Record<MessageType, MessageSchemas>> = MESSAGE_SCHEMAS[version];
  return Object.hasOwn(table, type) ? table[type as MessageType] : undefined;
}

/** The document schema `name` of `version`, or undefined. */
export function documentSchema(version: Version, name: string): TSchema | undefined {
  const table: Record<string, TSchema> = DOCUMENT_SCHEMAS[version];
  return Object.hasOwn(table, name) ? table[name] : undefined;
}
