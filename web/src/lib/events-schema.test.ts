/** The generated event types must match the published event schema (docs/event-schema.json). */
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import openapiTS, { astToString } from "openapi-typescript";
import { describe, expect, it } from "vitest";

const spec = new URL("../../../docs/event-schema.json", import.meta.url);
const generated = new URL("./events.gen.ts", import.meta.url);
const body = (s: string) => s.replace(/^\/\*\*[\s\S]*?\*\/\s*/, "").trim();

describe("events.gen.ts", () => {
  it.skipIf(!existsSync(fileURLToPath(spec)))("is up to date with ../docs/event-schema.json (run `npm run gen:events`)", async () => {
    const fresh = astToString(await openapiTS(spec));
    expect(body(readFileSync(generated, "utf8"))).toBe(body(fresh));
  });
});
