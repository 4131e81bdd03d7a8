// Dev tool: fps per URL query, e.g. node tests/browser/profile.mjs "quality=3&pin=1|quality=3&pin=1&off=graph"
import { launch, startServer } from "./lib.mjs";
const server = await startServer({ speed: 1 });
const { page, close } = await launch();
for (const q of (process.argv[2] ?? "").split("|")) {
  await page.goto(`${server.url}/?${q}`);
  await page.waitForFunction(() => (window.__hud?.frames ?? 0) > 10, null, { timeout: 60000 });
  const t0 = Date.now(); const f0 = await page.evaluate(() => window.__hud.frames);
  await page.waitForFunction(() => performance.now() > 0, null);
  await page.waitForTimeout(6000);
  const f1 = await page.evaluate(() => window.__hud.frames);
  const s = await page.evaluate(() => ({ q: window.__hud.quality, p95: window.__hud.p95 }));
  console.log(q.padEnd(50), ((f1 - f0) / ((Date.now() - t0) / 1000)).toFixed(1), "fps", JSON.stringify(s));
}
await close(); await server.stop();
