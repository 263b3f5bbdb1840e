import { Ajv2020 } from "ajv/dist/2020.js";
const ajv = new Ajv2020({ strict: true, allErrors: false });
const tryc = (name: string, s: object) => { try { const v = ajv.compile(s); return v; } catch (e) { console.log(name, "FAIL", (e as Error).message); return undefined; } };
const a = tryc("a", { type: "object", properties: { status: { type: "string" }, f: { type: "string" }, e: {type:"string"} }, required: ["status"], additionalProperties: false,
  allOf: [{ if: { properties: { status: { const: "READY" } } }, then: { properties: {f: true}, required: ["f"] }, else: { properties: { f: false } } }] });
if (a) { console.log(a({ status: "READY" }), JSON.stringify(a.errors)); console.log(a({ status: "X", f: "y" }), JSON.stringify(a.errors)); }
const b = tryc("b", { type: "object", if: { properties: {seq: true}, required: ["seq"] }, then: { type: "object", properties: { seq: { type: "integer" } }, required: ["seq"], additionalProperties: false }, else: { type: "object", properties: { nonce: { type: "string" } }, required: ["nonce"], additionalProperties: false } });
if (b) { console.log(b({ seq: "x" }), JSON.stringify(b.errors)); console.log(b({ nonce: 1 }), JSON.stringify(b.errors)); }
const c = tryc("c", { type: "object", properties: { content: {}, sealed: { type: "string" } }, additionalProperties: false, if: { properties: {content: true}, required: ["content"] }, then: { properties: { sealed: false } }, else: { properties: {sealed: true}, required: ["sealed"] } });
if (c) { console.log(c({}), JSON.stringify(c.errors)); console.log(c({content: 1, sealed: "x"}), JSON.stringify(c.errors)); }
const d = tryc("d", { type: "object", properties: { x: {type: "string", enum: ["a","b"]}, r: {type: "boolean"} }, required: ["x","r"], additionalProperties: false, if: { properties: {x: {enum: ["a"]}} }, then: { properties: { r: {const: true} } }, else: { properties: {r: {const: false}} } });
if (d) { console.log(d({x: "a", r: false}), JSON.stringify(d.errors)); }
