// My presence: the available / away switch, a state the server sets (wrap-up after a close, busy)
// shown beside it, and how long I have been in it.
import { t } from "kefu/i18n";
import { clock, fmtDuration, toast, byId as $ } from "kefu/ui";
import { failureText } from "kefu/messages";

const SWITCH = ["presence-available", "presence-away"];

export function createPresence(desk) {
  const { state, socket } = desk;

  function set(p) {
    if (!p) return;
    state.presence = { status: p.status || state.presence.status, since: p.since || clock.now() };
    render();
  }

  function render() {
    for (const id of SWITCH) {
      const btn = $(id);
      btn.setAttribute("aria-pressed", String(btn.dataset.status === state.presence.status));
    }
    document.body.dataset.presence = state.presence.status;
    // Wrap-up (after a close) and other server-side states show next to the switch.
    const other = !["available", "away"].includes(state.presence.status);
    $("presence-other").hidden = !other;
    if (other) $("presence-other").textContent = t(`presence.${state.presence.status}`);
    tick();
  }

  function tick() {
    const since = state.presence.since;
    const label = t(`presence.${state.presence.status}`) || state.presence.status;
    $("presence-timer").textContent = since ? fmtDuration(clock.now() - since) : "";
    $("presence-timer").setAttribute("aria-label", t("presence.for", { status: label, time: since ? fmtDuration(clock.now() - since) : "" }));
  }

  for (const id of SWITCH) {
    $(id).addEventListener("click", async (ev) => {
      const status = ev.currentTarget.dataset.status;
      if (status === state.presence.status) return;
      try {
        set(await socket.request("presence", { status }));
      } catch (exc) {
        toast(t("presence.failed", { reason: failureText(exc) }), "error");
      }
    });
  }

  return { set, render, tick };
}
