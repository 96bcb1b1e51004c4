// Drives cfsign-mock's console (/_cfsign/) in headless Chromium with playwright-core.
// Run by crates/cfsign-mock/tests/console_browser.rs, which starts the mock and passes:
//   CONSOLE_URL    the console, like http://127.0.0.1:PORT/_cfsign/
//   DENIED_URL     a URL the edge refuses (no signature on a restricted path)
//   SERVED_URL     a signed URL the edge serves
//   EXPIRED_URL    a signed URL that expired, for the verify box
//   ARTIFACTS_DIR  where screenshots go
//   CHROMIUM       the browser (default /usr/bin/chromium)
import { test } from "node:test";
import assert from "node:assert/strict";
import { chromium } from "playwright-core";

const env = (name) => {
  const v = process.env[name];
  assert.ok(v, `${name} is not set`);
  return v;
};

test("the console shows denied and served requests with reasons, and verifies a pasted URL", async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
      "--disable-component-update", "--no-first-run"],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
    await page.goto(env("CONSOLE_URL"));
    await page.getByRole("heading", { name: "cfsign-mock console" }).waitFor();
    // The demo distribution and its key group are listed.
    await page.locator("#dist-list .dist-card").first().waitFor();
    assert.match(await page.locator("#dist-list").innerText(), /\/private\/\*/);
    assert.equal(await page.locator("#groups tbody tr").count() >= 1, true);

    // A denied and a served request, made outside the page, appear by themselves (auto-refresh).
    const denied = await fetch(env("DENIED_URL"));
    assert.equal(denied.status, 403);
    const served = await fetch(env("SERVED_URL"));
    assert.equal(served.status, 200);
    const deniedRow = page.locator("#log tbody tr.denied").first();
    await deniedRow.waitFor({ timeout: 10000 });
    assert.match(await deniedRow.innerText(), /MissingKey/);
    assert.match(await deniedRow.innerText(), /no signature/);
    const grantedRow = page.locator("#log tbody tr.granted").first();
    await grantedRow.waitFor({ timeout: 10000 });
    assert.match(await grantedRow.innerText(), /granted by cache behaviour/);
    // Newest first: the served request is above the denied one.
    const decisions = await page.locator("#log tbody tr").evaluateAll((rows) => rows.map((r) => r.className));
    assert.deepEqual(decisions.slice(0, 2), ["granted", "denied"]);
    await page.screenshot({ path: `${env("ARTIFACTS_DIR")}/console-requests.png`, fullPage: false });

    // Filtering by decision, with the keyboard.
    await page.getByLabel("Decision").focus();
    await page.getByLabel("Decision").selectOption("denied");
    await page.waitForFunction(() =>
      [...document.querySelectorAll("#log tbody tr")].every((r) => r.className === "denied"));

    // The verify box: labelled, reachable, explains an expired URL.
    await page.getByRole("textbox", { name: "Signed URL" }).fill(env("EXPIRED_URL"));
    await page.getByRole("button", { name: "Verify" }).press("Enter");
    const outcome = page.locator("#verify-outcome");
    await outcome.waitFor();
    const text = await outcome.innerText();
    assert.match(text, /The edge would refuse this/);
    assert.match(text, /AccessDenied/);
    assert.match(text, /expired/);
    assert.match(text, /Key-Pair-Id/);
    await page.locator("#verify").scrollIntoViewIfNeeded();
    await page.screenshot({ path: `${env("ARTIFACTS_DIR")}/console-verify.png`, fullPage: false });
    await page.locator("#distributions").screenshot({ path: `${env("ARTIFACTS_DIR")}/console-distributions.png` });
    await page.locator("#keys").screenshot({ path: `${env("ARTIFACTS_DIR")}/console-keys.png` });
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});
