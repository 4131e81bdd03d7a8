/** The generated API types must match the server's OpenAPI document (docs/openapi.json). */
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import openapiTS, { astToString } from "openapi-typescript";
import { describe, expect, it } from "vitest";

const spec = new URL("../../../docs/openapi.json", import.meta.url);
const generated = new URL("./api-schema.gen.ts", import.meta.url);
const body = (s: string) => s.replace(/^\/\*\*[\s\S]*?\*\/\s*/, "").trim();

describe("api-schema.gen.ts", () => {
  it.skipIf(!existsSync(fileURLToPath(spec)))("is up to date with ../docs/openapi.json (run `npm run gen:api`)", async () => {
    const fresh = astToString(await openapiTS(spec));
    expect(body(readFileSync(generated, "utf8"))).toBe(body(fresh));
  });
});
