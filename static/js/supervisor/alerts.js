// The wall's alerts (告警): a banner per active alert (a skill past its oldest-wait, service-level or
// queue-length threshold, an agent away too long), a sound when one starts, cleared when the server
// says it recovered (`alert` with level "ok"). The alerts active when the wall connects come in the
// welcome and in every wall picture (`alerts`), so the banner is right after a reconnect too.
// Browsers refuse to play a sound before the page has had a click or a key: until then a button in
// the banner offers to turn the sound on. The mute toggle is remembered in this browser.
import { t } from "kefu/i18n";
import { el, clear, fmtDuration, skillLabel, byId as $ } from "kefu/ui";

const MUTE_KEY = "kefu.alerts.muted";
const keyOf = (a) => `${a.code}|${a.skill || a.agent_id || ""}`;

export function createAlerts(sup) {
  const { state, socket } = sup;
  state.alerts = new Map();
  const sound = new Audio($("alert-banner").dataset.sound);
  sound.preload = "auto";
  let muted = localStorage.getItem(MUTE_KEY) === "1";
  let blocked = false; // the browser refused to play (no click on the page yet)

  function valueText(a) {
    if (a.code === "service_level_too_low") return t("alerts.value.sl", { value: Math.round((a.value || 0) * 100), threshold: Math.round(a.threshold * 100) });
    if (a.code === "queue_too_long") return t("alerts.value.queue", { value: a.value, threshold: a.threshold });
    return t("alerts.value.secs", { value: fmtDuration(a.value), threshold: fmtDuration(a.threshold) });
  }

  function text(a) {
    const who = a.agent_id ? sup.agentName(a.agent_id) || a.agent_id : skillLabel(state.skills, a.skill);
    return t(`alerts.code.${a.code}`, { who, detail: valueText(a) });
  }

  function render() {
    const banner = $("alert-banner");
    const list = $("alert-list");
    clear(list);
    const active = [...state.alerts.values()].sort((a, b) => (a.since || 0) - (b.since || 0));
    for (const a of active) list.append(el("li", { class: "alert-item", dataset: { code: a.code, skill: a.skill || "", agentId: a.agent_id || "" }, text: text(a) }));
    banner.hidden = !active.length;
    $("alert-enable-sound").hidden = !(blocked && !muted && active.length);
    const mute = $("alert-mute");
    mute.setAttribute("aria-pressed", String(muted));
    mute.textContent = muted ? t("alerts.unmute") : t("alerts.mute");
  }

  function play() {
    if (muted) return;
    sound.currentTime = 0;
    sound.play().then(() => {
      blocked = false;
      render();
    }).catch(() => {
      blocked = true; // autoplay refused until the supervisor clicks: the banner offers the button
      render();
    });
  }

  function apply(a) {
    const key = keyOf(a);
    if (a.level === "ok") {
      state.alerts.delete(key);
    } else {
      const isNew = !state.alerts.has(key);
      state.alerts.set(key, a);
      if (isNew) play();
    }
    render();
  }

  /** The server's list of active alerts (welcome, wall picture): what is shown now. */
  function replace(list) {
    const fresh = new Map((list || []).map((a) => [keyOf(a), a]));
    const added = [...fresh.keys()].some((k) => !state.alerts.has(k));
    state.alerts = fresh;
    if (added) play();
    render();
  }

  socket.on("event:alert", (d) => apply(d));
  socket.on("welcome", (frame) => replace((frame && frame.alerts) || []));
  $("alert-mute").addEventListener("click", () => {
    muted = !muted;
    localStorage.setItem(MUTE_KEY, muted ? "1" : "0");
    if (muted) sound.pause();
    render();
  });
  $("alert-enable-sound").addEventListener("click", () => play());
  render();
  return { replace, apply, render, isMuted: () => muted, isBlocked: () => blocked };
}
