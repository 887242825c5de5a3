// The login page: credentials in, token to sessionStorage, then the console for the user's role.
import { initI18n, t } from "kefu/i18n";
import { auth, login, ApiError } from "kefu/api";
import { setupChrome, everySecond } from "kefu/ui";
import { roleHome, resumeSignIn } from "kefu/guard";

await initI18n();
setupChrome({ user: null, onLogout: () => {} });

const form = document.getElementById("login-form");
const username = document.getElementById("username");
const password = document.getElementById("password");
const errorBox = document.getElementById("login-error");
const submit = document.getElementById("login-submit");
let lockedUntil = 0;

function showError(text) {
  errorBox.textContent = text;
  errorBox.hidden = !text;
  for (const input of [username, password]) {
    if (text) input.setAttribute("aria-describedby", "login-error");
    else input.removeAttribute("aria-describedby");
  }
}

function go(user) {
  const home = roleHome(user);
  if (!home) {
    auth.clear();
    showError(t("login.error.no_console"));
    return;
  }
  location.replace(home);
}

// Already signed in in this tab: straight to the console (if the token still works).
await resumeSignIn(go);

everySecond(() => {
  if (!lockedUntil) return;
  const left = Math.ceil((lockedUntil - Date.now()) / 1000);
  if (left > 0) {
    showError(t("login.error.too_many_wait", { s: left }));
  } else {
    lockedUntil = 0;
    submit.disabled = false;
    showError(t("login.error.try_again_now"));
  }
});

form.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  if (lockedUntil) return;
  const name = username.value.trim();
  if (!name || !password.value) {
    showError(t("login.error.required"));
    (name ? password : username).focus();
    return;
  }
  showError("");
  submit.disabled = true;
  submit.setAttribute("aria-busy", "true");
  try {
    const data = await login(name, password.value);
    go(data.user);
    return;
  } catch (exc) {
    if (exc instanceof ApiError && exc.status === 401) {
      showError(t("login.error.bad_credentials"));
      password.select();
      password.focus();
    } else if (exc instanceof ApiError && exc.status === 429) {
      if (exc.retryAfter) {
        lockedUntil = Date.now() + exc.retryAfter * 1000;
        showError(t("login.error.too_many_wait", { s: exc.retryAfter }));
        submit.removeAttribute("aria-busy");
        return;
      }
      showError(t("login.error.too_many"));
    } else if (exc instanceof ApiError && exc.status === 0) {
      showError(t("login.error.network"));
    } else {
      showError(t("login.error.other", { message: (exc && exc.message) || "" }));
    }
  }
  submit.disabled = false;
  submit.removeAttribute("aria-busy");
});
