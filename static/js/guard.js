// The consoles' one auth guard: who may stay on a signed-in page (a token and a user with a role
// for it), the ways out (sign-out; back to the login page when the server says the token is no
// longer good: HTTP 401, or the socket closed with 4001/4010), and, for the login page, whether
// this tab is signed in already. The token itself lives in sessionStorage (kefu/api's auth).
import { t } from "kefu/i18n";
import { api, auth, logout, setUnauthorizedHandler, ApiError } from "kefu/api";
import { setupChrome } from "kefu/ui";

// Who each console is for; anyone else signed in is sent to their own console.
const CONSOLE_ROLES = { agent: ["agent"], supervisor: ["supervisor", "admin", "qa"], admin: ["admin", "supervisor", "qa"] };
// The socket's close codes for a token that is no longer good (docs/protocol.md).
const SIGNED_OUT_CLOSE_CODES = new Set([4001, 4010]);
// Long enough to read "signed out" before the login page replaces the console.
const SIGNED_OUT_NOTICE_MS = 2500;

/** The console a user belongs on ("/agent", "/supervisor", "/admin", "/admin#/qa"), or null for
 * a user with none: supervisors watch the wall; admins start in the admin console (settings); QA
 * on their QA work queue (its section of the admin console); an agent with no other role works
 * at the agent workbench. */
export function roleHome(user) {
  const roles = (user && user.roles) || [];
  if (roles.includes("supervisor")) return "/supervisor";
  if (roles.includes("admin")) return "/admin";
  if (roles.includes("agent")) return "/agent"; // an agent who also does QA works first
  if (roles.includes("qa")) return "/admin#/qa";
  return null;
}

/** The signed-in user of a console page ("agent", "supervisor" or "admin") and their token. Not signed in:
 * to the login page (and the module stops here). Signed in without a role for this console: to
 * their own. */
export function requireSignIn(page) {
  const user = auth.user;
  if (!auth.token || !user) {
    location.replace("/");
    throw new Error("not signed in");
  }
  const roles = user.roles || [];
  if (!CONSOLE_ROLES[page].some((r) => roles.includes(r))) {
    const home = roleHome(user);
    if (home && home !== `/${page}`) location.replace(home);
  }
  return { user, token: auth.token };
}

/** A console's exits: the account tools (logout closes the socket first), a 401 from /api/, and
 * the socket refusing the token. */
export function guardConsole(socket, user) {
  guardPage(user, () => socket.close());
  socket.on("fatal", (code) => {
    if (!SIGNED_OUT_CLOSE_CODES.has(code)) return;
    auth.clear();
    document.getElementById("conn-banner").hidden = false;
    document.getElementById("conn-banner-text").textContent = t("conn.signed_out");
    document.getElementById("conn-retry").hidden = true;
    setTimeout(() => location.replace("/"), SIGNED_OUT_NOTICE_MS);
  });
}

/** A signed-in page's exits without a socket (the admin console): the account tools and a 401
 * from /api/. ``beforeLogout`` runs first (a console closes its socket there). */
export function guardPage(user, beforeLogout = () => {}) {
  setUnauthorizedHandler(() => {
    auth.clear();
    location.replace("/");
  });
  setupChrome({
    user,
    onLogout: async () => {
      beforeLogout();
      await logout();
      location.replace("/");
    },
  });
}

/** The login page: a tab signed in already goes on with ``enter(user)`` if the server still takes
 * its token (a token it refuses is dropped; a server out of reach trusts the stored user). */
export async function resumeSignIn(enter) {
  if (!auth.token) return;
  try {
    const me = await api("/api/me");
    const user = (me && (me.user || me)) || auth.user;
    auth.setUser(user);
    enter(user);
  } catch (exc) {
    if (exc instanceof ApiError && exc.status === 401) auth.clear();
    else if (auth.user) enter(auth.user);
  }
}
