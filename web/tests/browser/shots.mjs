// Dev tool: screenshots at pinned quality levels, e.g. node tests/browser/shots.mjs 3,6 → test-artifacts/_dev-q*.png
import { join } from "node:path";
import { ARTIFACTS, launch, startServer, waitFrames } from "./lib.mjs";
const server = await startServer();
const { page, close, errors } = await launch();
for (const q of (process.argv[2] ?? "3").split(",")) {
  await page.goto(`${server.url}/?quality=${q}&pin=1`);
  await page.waitForFunction(() => (window.__hud?.frames ?? 0) > 10, null, { timeout: 90000 });
  await page.waitForFunction(() => (window.__hud?.snapshot?.().particles ?? 0) > 20, null, { timeout: 90000 });
  await waitFrames(page, 8);
  await page.screenshot({ path: join(ARTIFACTS, `_dev-q${q}.png`) });
  console.log("shot", q, JSON.stringify(await page.evaluate(() => window.__hud.snapshot())).slice(0, 300));
}
console.log(errors);
await close(); await server.stop();
