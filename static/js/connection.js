// The consoles' connection to the desk as people see it: the status chip, the banner with the
// reconnect countdown and "retry now", and the clock offset to the server (kefu/ui's clock).
import { t } from "kefu/i18n";
import { clock, byId as $ } from "kefu/ui";

// The banner's countdown is in seconds; twice a second keeps it from skipping one.
const BANNER_TICK_MS = 500;
const CLOCK_PING_TIMEOUT_MS = 5000;

/** Shows the socket's state. ``explainSilence``: say so when the heartbeat gave the socket up (the
 * server went silent) rather than that it was lost. ``onChange(state)`` after each change. */
export function showConnection(socket, { explainSilence = false, onChange = () => {} } = {}) {
  let bannerTimer = null;
  let serverSilent = false; // the heartbeat gave the socket up; until the next open
  socket.on("state", (st, detail = {}) => {
    if (detail.dead) serverSilent = true;
    if (st === "open") serverSilent = false;
    $("conn-status").dataset.state = st;
    $("conn-text").textContent = t(`conn.${st}`);
    const banner = $("conn-banner");
    clearInterval(bannerTimer);
    if (st === "offline") {
      banner.hidden = false;
      const tick = () => {
        const left = Math.max(0, Math.ceil((detail.retryAt - Date.now()) / 1000));
        $("conn-banner-text").textContent = explainSilence && serverSilent
          ? t("conn.dead_retry_in", { s: left, t: socket.heartbeat.timeout_s })
          : t("conn.lost_retry_in", { s: left });
      };
      tick();
      bannerTimer = setInterval(tick, BANNER_TICK_MS);
    } else if (st === "reconnecting") {
      banner.hidden = false;
      $("conn-banner-text").textContent = t("conn.reconnecting_long");
    } else if (st === "open") {
      banner.hidden = true;
    }
    onChange(st);
  });
  $("conn-retry").addEventListener("click", () => socket.retryNow());
  $("conn-status").dataset.state = "connecting";
  $("conn-text").textContent = t("conn.connecting");
}

/** The server's clock against ours, from one ping (half its round trip); 0 when it does not answer. */
export async function syncClock(socket) {
  const t0 = Date.now();
  try {
    const r = await socket.request("ping", {}, { timeoutMs: CLOCK_PING_TIMEOUT_MS });
    const t1 = Date.now();
    if (r && typeof r.ts === "number") clock.offsetMs = r.ts * 1000 - (t0 + t1) / 2;
  } catch {
    clock.offsetMs = 0;
  }
}
