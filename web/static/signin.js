// The sign-in page: a form that signs in through the client and goes on to
// the account page, and the notice that says why the visitor is here.

import { auth, describeError, hasSessionCookie } from "./demo.js";

const form = document.getElementById("signin");
const username = document.getElementById("username");
const password = document.getElementById("password");
const submit = document.getElementById("submit");
const formError = document.getElementById("form-error");
const notice = document.getElementById("notice");
const fields = { username, password };

// Why the visitor was sent here, keyed by the reason in the address.
const notices = {
  signOut: "You have signed out.",
  invalid_grant:
    "Your session has ended: it was signed out from another device, or it " +
    "expired. Sign in again to continue.",
  sessionRevoked: "This session was signed out.",
  required: "Sign in to see your account.",
};

const reason = new URLSearchParams(location.search).get("reason");
if (reason !== null && Object.hasOwn(notices, reason)) {
  notice.textContent = notices[reason];
} else if (
  reason === null &&
  auth.status === "signedIn" &&
  hasSessionCookie()
) {
  // Another tab of this browser is signed in: go straight to the account.
  location.replace("account");
}

let busy = false;

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  if (busy) {
    return;
  }
  clearErrors();
  if (!checkFilledIn()) {
    return;
  }

  setBusy(true);
  try {
    await auth.signIn(username.value.trim(), password.value);
  } catch (err) {
    showFailure(err);
    setBusy(false);
    return;
  }

  // Some browsers keep no Secure cookies over plain http (Safari on
  // localhost, for one): the sign-in worked, but this browser cannot use it.
  if (!hasSessionCookie()) {
    auth.signOut().catch(() => {});
    showError(
      "You are signed in, but this browser did not keep the session " +
        "cookies, which gatepass marks Secure. Open this page over https, or " +
        "restart the demo with --insecure-cookies.",
    );
    setBusy(false);
    return;
  }
  location.assign("account");
});

// checkFilledIn flags empty fields and reports whether there were none.
function checkFilledIn() {
  const empty = [];
  if (username.value.trim() === "") {
    empty.push(["username", "Enter your username."]);
  }
  if (password.value === "") {
    empty.push(["password", "Enter your password."]);
  }
  for (const [name, message] of empty) {
    flagField(name, message);
  }
  if (empty.length > 0) {
    fields[empty[0][0]].focus();
  }
  return empty.length === 0;
}

function showFailure(err) {
  if (err?.kind === "invalid_grant") {
    flagField("username", "");
    flagField("password", "");
    showError("Wrong username or password.");
    password.select();
    return;
  }
  if (err?.kind === "invalid_request" && err.status === 403) {
    showError(
      `gatepass refused sign-in from ${location.origin}: it accepts it only ` +
        "from its own address. Open the demo at the address gatepass " +
        "printed when it started.",
    );
    return;
  }
  const fieldErrors = Object.entries(err?.fields ?? {});
  for (const [name, message] of fieldErrors) {
    if (Object.hasOwn(fields, name)) {
      flagField(name, message);
    }
  }
  showError(describeError(err));
}

function flagField(name, message) {
  fields[name].setAttribute("aria-invalid", "true");
  document.getElementById(`${name}-error`).textContent = message;
}

function showError(message) {
  formError.textContent = message;
}

function clearErrors() {
  formError.textContent = "";
  notice.textContent = "";
  for (const [name, input] of Object.entries(fields)) {
    input.removeAttribute("aria-invalid");
    document.getElementById(`${name}-error`).textContent = "";
  }
}

// setBusy marks the button without disabling it, so it keeps the focus.
function setBusy(on) {
  busy = on;
  form.setAttribute("aria-busy", String(on));
  submit.setAttribute("aria-disabled", String(on));
  submit.textContent = on ? "Signing in…" : "Sign in";
}
