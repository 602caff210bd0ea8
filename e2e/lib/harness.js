// The pieces the browser tests stand on: the gatepass binary, a running
// server whose JSON log the tests read, and headless Chromium.

import { spawn } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

/** repoRoot is the root of the gatepass module. */
export const repoRoot = join(
  dirname(fileURLToPath(import.meta.url)),
  "..",
  "..",
);

/** outputDir receives the screenshot and the server logs; it is not committed. */
export const outputDir = join(repoRoot, "e2e", "output");

// Chromium as Debian ships it. Without the background-networking flags it
// tries to reach Google's services, which a closed network refuses.
const chromiumPath = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
const chromiumArgs = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** launchBrowser starts Chromium with a fresh profile. */
export function launchBrowser() {
  return chromium.launch({ executablePath: chromiumPath, args: chromiumArgs });
}

/** buildGatepass compiles the binary into dir and returns its path. */
export async function buildGatepass(dir) {
  const bin = join(dir, "gatepass");
  const go = spawn("go", ["build", "-o", bin, "./cmd/gatepass"], {
    cwd: repoRoot,
    stdio: ["ignore", "inherit", "inherit"],
  });
  const [code] = await once(go, "exit");
  if (code !== 0) {
    throw new Error(`go build exited with ${code}`);
  }
  return bin;
}

/** freePort returns a loopback port nobody listens on at the moment. */
export async function freePort() {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address();
  server.close();
  await once(server, "close");
  return port;
}

/**
 * waitFor polls check until it returns a truthy value, and returns that. It
 * fails after timeoutMs with message: the tests wait for conditions, never
 * for a fixed time, and the limits are generous.
 */
export async function waitFor(
  check,
  { timeoutMs = 30_000, message = "condition" } = {},
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) {
      return value;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${message}`);
    }
    await sleep(100);
  }
}

/**
 * Gatepass is "gatepass serve --demo" running as a child process. Its JSON
 * log lines are kept, parsed, in logs.
 */
export class Gatepass {
  /** start runs the server with the given extra flags and waits until it listens. */
  static async start({ bin, db, flags = [] }) {
    const port = await freePort();
    const args = [
      "serve",
      "--demo",
      "--addr",
      `127.0.0.1:${port}`,
      "--db",
      db,
      "--access-ttl",
      "3s",
      "--leeway",
      "0s",
      "--log-format",
      "json",
      "--log-level",
      "debug",
      ...flags,
    ];
    // The flags above are the whole configuration: no GATEPASS_* variable of
    // the caller's environment may change it.
    const env = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !k.startsWith("GATEPASS_")),
    );
    const child = spawn(bin, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    const server = new Gatepass(child, `http://127.0.0.1:${port}`);
    await server.waitForLog(
      (line) => line.msg === "listening",
      "the listening line",
      30_000,
    );
    return server;
  }

  constructor(child, url) {
    this.child = child;
    this.url = url;
    this.logs = [];
    this.rawLog = [];
    this.stdout = "";
    this.exited = false;
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk) => {
      this.stdout += chunk;
    });
    createInterface({ input: child.stderr }).on("line", (line) => {
      this.rawLog.push(line);
      try {
        this.logs.push(JSON.parse(line));
      } catch {
        // Not a log record (a panic, say): kept in rawLog only.
      }
    });
    child.on("exit", () => {
      this.exited = true;
    });
  }

  /** count returns how many log lines have the message msg. */
  count(msg) {
    return this.logs.filter((line) => line.msg === msg).length;
  }

  /** waitForLog waits until some log line passes match, and returns it. */
  waitForLog(match, what, timeoutMs = 30_000) {
    return waitFor(
      () => {
        if (this.exited) {
          throw new Error(
            `gatepass exited while waiting for ${what}:\n${this.log()}`,
          );
        }
        return this.logs.find(match);
      },
      { timeoutMs, message: what },
    );
  }

  /** log returns the server's log so far, one line per record. */
  log() {
    return this.rawLog.join("\n");
  }

  /** stop ends the server with SIGTERM, as an operator would, and waits for it. */
  async stop() {
    if (this.exited) {
      return;
    }
    const exit = once(this.child, "exit");
    this.child.kill("SIGTERM");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 20_000);
    await exit;
    clearTimeout(timer);
  }
}

/**
 * watchPage records what should never happen on a page: uncaught errors and
 * requests the Content-Security-Policy blocked.
 */
export function watchPage(page, problems) {
  page.on("pageerror", (err) => problems.push(`${page.url()}: ${err.message}`));
  page.on("console", (msg) => {
    if (msg.type() === "error" && /Content Security Policy/i.test(msg.text())) {
      problems.push(`${page.url()}: ${msg.text()}`);
    }
  });
  return page;
}
