// The demo pages in headless Chromium against a real "gatepass serve --demo"
// whose access tokens live 3 seconds, so that a few seconds of test see
// several refreshes. What the server did is read from its JSON log.
//
// The tests of a suite run in order and share one browser session, as a
// person would: sign in, wait, open a second tab, sign in elsewhere, sign
// the other device out, sign out.

import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  Gatepass,
  buildGatepass,
  launchBrowser,
  outputDir,
  waitFor,
  watchPage,
} from "../lib/harness.js";

// Log messages of the auth service.
const ROTATED = "refresh token rotated";
const REPLAYED = "rotated refresh token replayed inside reuse interval";
const REUSE = "refresh token reuse detected, session revoked";

let dir;
let bin;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "gatepass-e2e-"));
  await mkdir(outputDir, { recursive: true });
  bin = await buildGatepass(dir);
});

after(async () => {
  if (dir) {
    await rm(dir, { recursive: true, force: true });
  }
});

describe("demo pages, Secure cookies (the default)", () => {
  let server;
  let browser;
  let alice; // the first browser: a context is a cookie jar and storage
  let tab1;
  let tab2;
  let other; // a second, separate browser
  let otherTab;
  const problems = [];

  before(async () => {
    server = await Gatepass.start({ bin, db: join(dir, "e2e.db") });
    browser = await launchBrowser();
    alice = await browser.newContext();
    tab1 = watchPage(await alice.newPage(), problems);
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    if (server) {
      await writeFile(join(outputDir, "server.log"), server.log() + "\n");
    }
  });

  test("a visit to the account page without a session goes to sign-in", async () => {
    await tab1.goto(`${server.url}/account`);
    await tab1.waitForURL(/\/\?reason=required$/);
    await tab1.getByText("Sign in to see your account.").waitFor();
  });

  test("a wrong password is reported next to the form", async () => {
    await fillSignIn(tab1, server.url, "not-the-password");
    const alert = tab1.getByRole("alert");
    await alert.filter({ hasText: "Wrong username or password." }).waitFor();
    assert.equal(
      await tab1.getByLabel("Password").getAttribute("aria-invalid"),
      "true",
    );
    assert.match(tab1.url(), /\/(\?.*)?$/, "still on the sign-in page");
  });

  test("sign-in from another address than the issuer's is refused with advice", async () => {
    // The issuer is http://127.0.0.1:PORT; localhost is another origin.
    const context = await browser.newContext();
    const page = watchPage(await context.newPage(), problems);
    await fillSignIn(
      page,
      server.url.replace("127.0.0.1", "localhost"),
      "demo-password",
    );
    await page
      .getByRole("alert")
      .filter({ hasText: "Open the demo at the address gatepass printed" })
      .waitFor();
    assert.deepEqual(await allCookies(context, "http://localhost/"), []);
    await context.close();
  });

  test("signs in through the demo page", async () => {
    await fillSignIn(tab1, server.url, "demo-password");
    await waitForAccount(tab1);
    assert.equal(
      await tab1.locator("#fact-email").textContent(),
      "demo@example.com",
    );
    assert.equal(await sessionCount(tab1), 1);
  });

  test("scripts see no token, only the CSRF cookie", async () => {
    await checkTokensHidden(alice, tab1, server.url, {
      access: "__Host-gatepass_access",
      refresh: "__Secure-gatepass_refresh",
      csrf: "__Host-gatepass_csrf",
      secure: true,
    });
  });

  test("keeps working across several access token lifetimes", async () => {
    const rotated = server.count(ROTATED);
    await waitFor(() => server.count(ROTATED) >= rotated + 3, {
      timeoutMs: 60_000,
      message: "three refresh token rotations",
    });
    await waitFor(async () => (await renewals(tab1)) >= 3, {
      message: "the page to count three renewals",
    });
    assert.match(tab1.url(), /\/account$/);

    // The tokens the page started with have long expired; a reload still
    // shows the account and the sessions.
    await tab1.reload();
    await waitForAccount(tab1);
    await waitFor(
      async () =>
        /^\d+:\d\d$/.test(await tab1.locator("#countdown").textContent()),
      {
        message: "the countdown to show a lifetime",
      },
    );
  });

  test("two tabs share the session through refreshes without reuse", async (t) => {
    tab2 = watchPage(await alice.newPage(), problems);
    await tab2.goto(`${server.url}/account`);
    await waitForAccount(tab2);

    const since = server.logs.length;
    const rotated = server.count(ROTATED);
    const [start1, start2] = [await renewals(tab1), await renewals(tab2)];
    await waitFor(
      async () =>
        server.count(ROTATED) >= rotated + 4 &&
        (await renewals(tab1)) >= start1 + 3 &&
        (await renewals(tab2)) >= start2 + 3,
      { timeoutMs: 60_000, message: "four rotations seen by both tabs" },
    );

    // Both tabs were renewed by one session's rotations.
    const window = server.logs.slice(since);
    const sessions = new Set(
      window.filter((l) => l.msg === ROTATED).map((l) => l.session_id),
    );
    assert.equal(
      sessions.size,
      1,
      `rotations of one session, got ${[...sessions]}`,
    );
    assert.equal(server.count(REUSE), 0, "no refresh token reuse was detected");

    await Promise.all([tab1.reload(), tab2.reload()]);
    await Promise.all([waitForAccount(tab1), waitForAccount(tab2)]);
    assert.equal(server.count(REUSE), 0, "no refresh token reuse was detected");
    t.diagnostic(
      `replays inside the grace interval so far: ${server.count(REPLAYED)}`,
    );
  });

  test('"Sign out other devices" signs out a second browser', async () => {
    other = await browser.newContext();
    otherTab = watchPage(await other.newPage(), problems);
    await fillSignIn(otherTab, server.url, "demo-password");
    await waitForAccount(otherTab);

    // The first browser's list picks up the new session on its next renewal.
    await waitFor(async () => (await sessionCount(tab1)) === 2, {
      message: "the first browser to list two sessions",
    });
    await tab1
      .locator('#sessions li[data-current="false"] .device-name')
      .waitFor();
    await tab1.screenshot({
      path: join(outputDir, "protected.png"),
      fullPage: true,
    });

    await tab1.getByRole("button", { name: "Sign out other devices" }).click();
    await tab1.getByText("Every other device is signed out.").waitFor();

    await otherTab.waitForURL(/\/\?reason=/, { timeout: 30_000 });
    await otherTab.getByText("signed out from another device").waitFor();
    assert.deepEqual(
      await allCookies(other, server.url),
      [],
      "the other browser's cookies",
    );

    // This browser's tabs stay signed in.
    await waitFor(async () => (await sessionCount(tab1)) === 1, {
      message: "the first browser to list one session",
    });
    assert.match(tab1.url(), /\/account$/);
    assert.match(tab2.url(), /\/account$/);
  });

  test('"Sign out" ends the session in every tab and clears the cookies', async () => {
    await tab1.getByRole("button", { name: "Sign out", exact: true }).click();
    await tab1.waitForURL(/\/\?reason=signOut$/);
    await tab1.getByText("You have signed out.").waitFor();
    await tab2.waitForURL(/\/\?reason=/, { timeout: 30_000 });

    assert.deepEqual(
      await allCookies(alice, server.url),
      [],
      "cookies left for the host",
    );
    const stored = await tab1.evaluate(() => Object.keys(localStorage));
    assert.deepEqual(stored, [], "localStorage keys left");

    await tab1.goto(`${server.url}/account`);
    await tab1.waitForURL(/\/\?reason=required$/);
  });

  test("no page error, no blocked content, no refresh token reuse", () => {
    assert.deepEqual(problems, []);
    assert.equal(server.count(REUSE), 0);
    assert.ok(
      server.count(ROTATED) >= 7,
      `rotations: ${server.count(ROTATED)}`,
    );
  });
});

describe("demo pages, --insecure-cookies", () => {
  let server;
  let browser;

  before(async () => {
    server = await Gatepass.start({
      bin,
      db: join(dir, "e2e-insecure.db"),
      flags: ["--insecure-cookies"],
    });
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test("signs in, refreshes and signs out with unprefixed cookies", async () => {
    const problems = [];
    const context = await browser.newContext();
    const page = watchPage(await context.newPage(), problems);
    await fillSignIn(page, server.url, "demo-password");
    await waitForAccount(page);
    await checkTokensHidden(context, page, server.url, {
      access: "gatepass_access",
      refresh: "gatepass_refresh",
      csrf: "gatepass_csrf",
      secure: false,
    });

    await waitFor(async () => (await renewals(page)) >= 2, {
      message: "two renewals",
    });
    await page.getByRole("button", { name: "Sign out", exact: true }).click();
    await page.waitForURL(/\/\?reason=signOut$/);
    assert.deepEqual(await allCookies(context, server.url), []);
    assert.deepEqual(problems, []);
    assert.equal(server.count(REUSE), 0);
  });
});

// ---- helpers ----

// fillSignIn signs in through the form of the sign-in page, going there
// first unless the page is on it.
async function fillSignIn(page, url, password) {
  const here = new URL(
    page.url().startsWith("http") ? page.url() : "about:blank",
  );
  if (here.origin !== new URL(url).origin || here.pathname !== "/") {
    await page.goto(`${url}/`);
  }
  await page.getByLabel("Username").fill("demo");
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

// waitForAccount waits for the account page to show the demo user and this
// device in the session list.
async function waitForAccount(page) {
  await page.waitForURL(/\/account$/);
  await page.locator("#username", { hasText: "demo" }).waitFor();
  await page.locator('#sessions li[data-current="true"]').waitFor();
}

// renewals returns how many renewals the account page has counted.
async function renewals(page) {
  return Number(await page.locator("#renewals").getAttribute("data-count"));
}

async function sessionCount(page) {
  return page.locator("#sessions > li").count();
}

// allCookies returns every cookie the browser holds for url's host, whatever
// its path: context.cookies(url) would leave out the refresh cookie, whose
// paths are /auth/refresh and /auth/logout.
async function allCookies(context, url) {
  const host = new URL(url).hostname;
  return (await context.cookies()).filter((c) => c.domain === host);
}

// checkTokensHidden checks that the access and refresh cookies are HttpOnly,
// that document.cookie shows the CSRF cookie alone, and that no token value
// is anywhere a script can read: cookies, Web Storage or the page.
async function checkTokensHidden(context, page, url, names) {
  const jar = Object.fromEntries(
    (await allCookies(context, url)).map((c) => [c.name, c]),
  );
  for (const name of [names.access, names.refresh]) {
    assert.ok(jar[name], `cookie ${name} is set`);
    assert.equal(jar[name].httpOnly, true, `${name} is HttpOnly`);
    assert.equal(jar[name].secure, names.secure, `${name} Secure`);
  }

  const visible = await page.evaluate(() => document.cookie);
  const visibleNames = visible
    .split(";")
    .map((pair) => pair.split("=")[0].trim())
    .filter(Boolean);
  assert.deepEqual(visibleNames, [names.csrf]);

  const readable = await page.evaluate(
    () =>
      document.cookie +
      JSON.stringify({ ...localStorage }) +
      JSON.stringify({ ...sessionStorage }) +
      document.documentElement.outerHTML,
  );
  for (const name of [names.access, names.refresh]) {
    assert.ok(
      !readable.includes(jar[name].value),
      `the value of ${name} is readable`,
    );
  }
}
