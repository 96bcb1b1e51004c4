// Drives Debian's Chromium with playwright-core: opens the player page with the given cookies,
// waits until playback passes `--min-time` seconds or the page reports a failure, saves a
// screenshot, and prints one JSON line: {currentTime, playing, failed, responses, requests}.
// Usage: node play.mjs --page URL --screenshot FILE [--cookies JSON] [--min-time 2.2] [--timeout-ms 30000]
import { chromium } from 'playwright-core';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((pairs, a, i, all) => (a.startsWith('--') ? [...pairs, [a.slice(2), all[i + 1]]] : pairs), []),
);
const executablePath = process.env.CFSIGN_CHROMIUM || '/usr/bin/chromium';
const minTime = Number(args['min-time'] || '2.2');
const timeout = Number(args['timeout-ms'] || '30000');

const browser = await chromium.launch({
  executablePath,
  headless: true,
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--no-first-run',
    '--autoplay-policy=no-user-gesture-required',
    '--host-resolver-rules=MAP *.cfsign.test 127.0.0.1',
  ],
});
try {
  const context = await browser.newContext({ viewport: { width: 1100, height: 560 } });
  if (args.cookies) await context.addCookies(JSON.parse(args.cookies));
  const page = await context.newPage();
  const responses = [];
  page.on('response', (r) => responses.push({ url: r.url(), status: r.status() }));
  const consoleLines = [];
  page.on('console', (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => consoleLines.push(`pageerror: ${e.message}`));
  await page.goto(args.page);
  try {
    await page.waitForFunction(
      (t) => window.cfsignPlayer && (window.cfsignPlayer.currentTime > t || window.cfsignPlayer.failed),
      minTime,
      { timeout },
    );
  } catch (e) {
    consoleLines.push(`driver: gave up waiting: ${e.message.split('\n')[0]}`);
  }
  // Let a failure's remaining requests land in the list before the picture is taken.
  await page.waitForTimeout(500);
  if (args.screenshot) await page.screenshot({ path: args.screenshot });
  const state = await page.evaluate(() => window.cfsignPlayer || {});
  console.log(JSON.stringify({ ...state, responses, console: consoleLines.slice(-20) }));
} finally {
  await browser.close();
}
