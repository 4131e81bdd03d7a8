// Dev tool: the README screenshot. `node tests/browser/readme-shot.mjs URL RUN_ID OUT.png` replays a finished
// run to its end at 1280×720, waits until the readouts show the server's final figures, and saves the PNG.
import { launch } from "./lib.mjs";
const [url, run, out] = process.argv.slice(2);
const { page, close } = await launch({ width: 1280, height: 720 });
await page.goto(`${url}/?run=${run}`, { waitUntil: "load" });
await page.waitForFunction(() => window.__hud?.runtime?.replay?.t1 > 0, null, { timeout: 60000 });
await page.evaluate(() => { window.__hud.runtime.setPlaying(false); window.__hud.seek(1); });
await page.waitForFunction(() => { const r = window.__hud.runtime.replay; return r.at > 0 && r.shownAt === r.at; }, null, { timeout: 30000 });
await page.waitForFunction(() => { const rt = window.__hud.runtime; return document.querySelector('[data-testid="ro-tokens"]').textContent === rt.reactor.totals.total_tokens.toLocaleString("en-US"); }, null, { timeout: 60000, polling: 100 });
await page.waitForTimeout(1500);
await page.screenshot({ path: out });
console.log(JSON.stringify(await page.evaluate(() => window.__hud.snapshot().totals)));
await close();
