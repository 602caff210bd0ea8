// The account page: who you are, the access token's remaining lifetime, and
// the sessions of your account, each of which you can sign out.

import { auth, describeError, goToSignIn, hasSessionCookie } from "./demo.js";

const $ = (id) => document.getElementById(id);
const el = {
  loading: $("loading"),
  error: $("account-error"),
  account: $("account"),
  signOut: $("sign-out"),
  signOutOthers: $("sign-out-others"),
  username: $("username"),
  countdown: $("countdown"),
  lifetime: $("lifetime"),
  renewals: $("renewals"),
  sessions: $("sessions"),
  sessionsTitle: $("sessions-title"),
  sessionsStatus: $("sessions-status"),
  template: $("session-template"),
};

// ---- the access token countdown ----

const countdown = {
  deadline: 0,
  lifetime: 0,
  renewals: 0,
  // exact is true when the deadline comes from an announced expires_in.
  exact: false,
  text: "",

  start(seconds, lifetime) {
    this.deadline = Date.now() + seconds * 1000;
    this.lifetime = lifetime;
    this.render();
  },

  // renewed counts a renewal and, if its lifetime is known, restarts.
  renewed(expiresIn) {
    this.renewals++;
    const at = new Date().toLocaleTimeString();
    const times = this.renewals === 1 ? "once" : `${this.renewals} times`;
    el.renewals.dataset.count = String(this.renewals);
    el.renewals.textContent = `Renewed ${times} while this page has been open, last at ${at}.`;
    if (expiresIn !== null) {
      this.exact = true;
      this.start(expiresIn, expiresIn);
    }
  },

  render() {
    if (this.deadline === 0) {
      return;
    }
    const left = Math.max(0, this.deadline - Date.now());
    const text = left > 0 ? formatSeconds(Math.ceil(left / 1000)) : "renewing…";
    if (text !== this.text) {
      this.text = text;
      el.countdown.textContent = text;
    }
    el.lifetime.value = this.lifetime > 0 ? left / (this.lifetime * 1000) : 0;
  },
};
setInterval(() => countdown.render(), 250);

// formatSeconds writes a duration as m:ss, or h:mm:ss from an hour on.
function formatSeconds(total) {
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

// ---- session events ----

// shown is true once the account is on screen: a session that ends after
// that has ended, while one missing before it was never there.
let shown = false;

auth.on("signedOut", ({ reason }) => goToSignIn(shown ? reason : "required"));

// A renewal announces the new token's lifetime, which restarts the countdown.
// Renewals by other tabs count too: the tabs of a browser share one session.
auth.on("refreshed", ({ expiresIn }) => {
  countdown.renewed(expiresIn);
  loadSessions().catch(showError);
});

// signedIn here means a session began without an announced lifetime: this
// tab renewed a token it had not known about, or another tab signed in anew.
// The account is read again, and the countdown taken from it.
auth.on("signedIn", ({ origin }) => {
  if (origin === "thisTab") {
    countdown.renewed(null);
  }
  countdown.exact = false;
  Promise.all([loadMe(), loadSessions()]).catch(showError);
});

document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible" && shown) {
    loadSessions().catch(showError);
  }
});

// ---- the account ----

const loadMe = coalesce(async () => {
  const me = await auth.me();
  el.username.textContent = me.username;
  $("fact-username").textContent = me.username;
  $("fact-email").textContent = me.email || "none";
  $("fact-user-id").textContent = me.userId;
  $("fact-scope").textContent = me.scope || "none";
  $("fact-session").textContent = me.sessionId;

  // Until a renewal announces expires_in, the countdown runs to the expiry
  // the server gave for the token in use (on one machine the clocks agree).
  if (!countdown.exact) {
    const left = (Date.parse(me.expiresAt) - Date.now()) / 1000;
    countdown.start(Math.max(0, left), Math.max(left, countdown.lifetime));
  }
});

// ---- sessions ----

// rows keeps one list item per session id, so a reload updates items in
// place and a focused button keeps its focus.
const rows = new Map();

const loadSessions = coalesce(async () => {
  const list = await auth.sessions();
  renderSessions(list);
});

function renderSessions(list) {
  // This device first; the others newest first, as the server sends them.
  const ordered = [...list].sort(
    (a, b) => Number(b.current) - Number(a.current),
  );
  let previous = null;
  for (const session of ordered) {
    let row = rows.get(session.id);
    if (row === undefined) {
      row = newRow(session.id);
      rows.set(session.id, row);
    }
    fillRow(row, session);
    const wanted = previous
      ? previous.nextElementSibling
      : el.sessions.firstElementChild;
    if (wanted !== row) {
      el.sessions.insertBefore(row, wanted);
    }
    previous = row;
  }
  const ids = new Set(list.map((s) => s.id));
  for (const [id, row] of rows) {
    if (!ids.has(id)) {
      row.remove();
      rows.delete(id);
    }
  }

  const others = list.filter((s) => !s.current).length;
  el.signOutOthers.setAttribute("aria-disabled", String(others === 0));
  el.sessions.dataset.count = String(list.length);
}

function newRow(id) {
  const row = el.template.content.firstElementChild.cloneNode(true);
  row.dataset.sessionId = id;
  row.querySelector(".revoke").addEventListener("click", () => revoke(id, row));
  return row;
}

function fillRow(row, session) {
  const device = describeAgent(session.userAgent);
  row.dataset.current = String(session.current);
  row.querySelector(".device-name").textContent = device;
  row.querySelector(".badge").hidden = !session.current;
  row.querySelector(".session-agent").textContent =
    session.userAgent || "No user agent was sent.";
  setTime(row.querySelector(".created"), session.createdAt);
  setTime(row.querySelector(".last-used"), session.lastUsedAt);
  row.querySelector(".ip").textContent = session.ipAddress
    ? ` from ${session.ipAddress}`
    : "";
  row.querySelector(".device-label").textContent =
    ` ${device}, signed in ${formatTime(session.createdAt)}`;
  // This device signs out with the button at the top of the page.
  row.querySelector(".revoke").hidden = session.current;
}

async function revoke(id, row) {
  const button = row.querySelector(".revoke");
  if (!begin(button)) {
    return;
  }
  const device = row.querySelector(".device-name").textContent;
  try {
    await auth.revokeSession(id);
    el.sessionsTitle.focus();
    el.sessionsStatus.textContent = `Signed out ${device}.`;
    await loadSessions();
  } catch (err) {
    showError(err);
  } finally {
    end(button);
  }
}

el.signOutOthers.addEventListener("click", async () => {
  const button = el.signOutOthers;
  if (button.getAttribute("aria-disabled") === "true") {
    el.sessionsStatus.textContent = "No other device is signed in.";
    return;
  }
  if (!begin(button)) {
    return;
  }
  try {
    await auth.signOut("others");
    el.sessionsStatus.textContent = "Every other device is signed out.";
    await loadSessions();
  } catch (err) {
    showError(err);
  } finally {
    end(button);
  }
});

el.signOut.addEventListener("click", async () => {
  if (!begin(el.signOut)) {
    return;
  }
  try {
    // On success the client's signedOut event leaves this page.
    await auth.signOut("local");
  } catch (err) {
    // The session is still alive: say so rather than pretend.
    showError(err);
    end(el.signOut);
  }
});

// ---- helpers ----

// begin marks a button busy, unless it already is. aria-disabled rather than
// disabled keeps the focus on it.
function begin(button) {
  if (button.getAttribute("aria-busy") === "true") {
    return false;
  }
  button.setAttribute("aria-busy", "true");
  el.error.textContent = "";
  return true;
}

function end(button) {
  button.removeAttribute("aria-busy");
}

function showError(err) {
  if (auth.status === "signedOut") {
    return; // the signedOut event is already taking the page to sign-in
  }
  el.error.textContent = describeError(err);
}

// coalesce wraps a loader so that calls during a run share it, and one more
// run follows if any came in meanwhile: the last caller sees fresh data.
function coalesce(load) {
  let running = null;
  let again = false;
  return () => {
    if (running !== null) {
      again = true;
      return running;
    }
    running = (async () => {
      try {
        do {
          again = false;
          await load();
        } while (again);
      } finally {
        running = null;
      }
    })();
    return running;
  };
}

const dateTime = new Intl.DateTimeFormat(undefined, {
  dateStyle: "medium",
  timeStyle: "medium",
});

function formatTime(iso) {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? "at an unknown time" : dateTime.format(t);
}

function setTime(node, iso) {
  node.dateTime = iso;
  node.textContent = formatTime(iso);
}

// describeAgent names the browser and system of a user agent string, well
// enough to tell one's devices apart.
function describeAgent(ua) {
  if (!ua) {
    return "Unknown device";
  }
  const browsers = [
    [/Edg\//, "Edge"],
    [/OPR\//, "Opera"],
    [/HeadlessChrome\//, "Headless Chrome"],
    [/Chrome\//, "Chrome"],
    [/Firefox\//, "Firefox"],
    [/Version\/[\d.]+.*Safari\//, "Safari"],
    [/^curl\//, "curl"],
    [/^Go-http-client\//, "Go program"],
  ];
  const systems = [
    [/Windows/, "Windows"],
    [/iPhone|iPad/, "iOS"],
    [/Android/, "Android"],
    [/Macintosh|Mac OS X/, "macOS"],
    [/CrOS/, "ChromeOS"],
    [/Linux/, "Linux"],
  ];
  const browser = browsers.find(([re]) => re.test(ua))?.[1] ?? "Browser";
  const system = systems.find(([re]) => re.test(ua))?.[1];
  return system ? `${browser} on ${system}` : browser;
}

// ---- start ----

async function start() {
  if (!hasSessionCookie()) {
    goToSignIn("required");
    return;
  }
  try {
    await Promise.all([loadMe(), loadSessions()]);
  } catch (err) {
    if (err?.kind === "unauthorized" || err?.kind === "invalid_grant") {
      goToSignIn("required");
      return;
    }
    el.loading.textContent = "";
    showError(err);
    return;
  }
  el.loading.textContent = "";
  el.account.hidden = false;
  el.signOut.hidden = false;
  shown = true;
}

start();
