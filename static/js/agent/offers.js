// Offers waiting for my answer: the list with each one's countdown and how long the customer has
// waited, accept / reject, and the alert (a sound, and a desktop notification when the tab is not
// in front) for a new one.
import { t } from "kefu/i18n";
import { SocketError } from "kefu/socket";
import {
  el, clear, fmtAgo, fmtDateTime, fmtDuration, toast, customerName, customerAvatar, customerDetail, skillLabel, byId as $,
} from "kefu/ui";
import { failureText } from "kefu/messages";

// What an offer lasts when the server does not say (docs/protocol.md, event offer).
const DEFAULT_OFFER_SECS = 20;
const URGENT_SECS = 5;
// The server revokes expired offers; a card is tidied away here only this long after its end.
const STALE_OFFER_MS = 10000;

export function createOffers(desk) {
  const { state, socket } = desk;
  const sound = new Audio(document.body.dataset.sound);
  sound.preload = "auto";

  function add(data, { silent = false } = {}) {
    const id = String(data.session_id);
    if (state.sessions.has(id)) return;
    const existing = state.offers.get(id);
    const total = Number(data.expires_in) || DEFAULT_OFFER_SECS;
    const deadline = existing ? existing.deadline : Date.now() + total * 1000;
    state.offers.set(id, { data, deadline, total, received: Date.now() });
    render();
    if (!existing && !silent) alert(data);
  }

  function alert(data) {
    sound.currentTime = 0;
    sound.play().catch(() => {});
    const name = state.profiles.nameOf(data.customer);
    if ("Notification" in window && Notification.permission === "granted" && (document.hidden || !document.hasFocus())) {
      try {
        const n = new Notification(t("offer.notification_title"), {
          body: t("offer.notification_body", { name, skill: skillLabel(state.skills, data.skill) }),
          tag: `offer-${data.session_id}`,
        });
        n.onclick = () => {
          window.focus();
          n.close();
        };
      } catch {
        // some platforms only allow notifications from a service worker
      }
    }
  }

  // "Transfer from Alice" / "Assigned to you by the supervisor": what kind of hand-over an offer is.
  function handoverHeadline(tr) {
    const from = tr.from_name || desk.agentName(tr.from) || tr.from || "";
    const by = tr.by_name || desk.agentName(tr.by) || tr.by || "";
    if (tr.kind === "assign") return t("offer.assigned_by", { name: by });
    if (tr.kind === "reassign") return t("offer.reassigned_by", { name: by, from });
    if (tr.to_skill) return t("offer.transfer_queue", { name: from });
    return t("offer.transfer_from", { name: from });
  }

  // A leave-message (留言): how long ago it was left and when it is due, before accepting it.
  function leaveMessageHeadline(d) {
    const lm = d.leave_message;
    return el("p", { class: "offer-transfer", dataset: { testid: "offer-leave-message" } },
      el("strong", { text: t("agent.offer.leave_message", { ago: fmtAgo(lm.age_s) }) }),
      lm.due_at ? el("span", { class: lm.breached ? "lm-overdue" : "", text: ` · ${t(lm.breached ? "agent.lm.overdue" : "agent.lm.due", { when: fmtDateTime(lm.due_at) })}` }) : null);
  }

  function remove(id) {
    if (state.offers.delete(String(id))) render();
  }

  function card(id, offer, first) {
    const d = offer.data;
    const who = state.profiles.of(d.customer);
    const name = customerName(who);
    const detail = customerDetail(who);
    const accept = el("button", { type: "button", class: "btn btn-primary btn-sm", text: t("offer.accept"), "aria-label": t("offer.accept_named", { name }), "aria-keyshortcuts": first ? "Alt+A" : null });
    const reject = el("button", { type: "button", class: "btn btn-sm", text: t("offer.reject"), "aria-label": t("offer.reject_named", { name }) });
    accept.addEventListener("click", () => acceptOffer(id, accept));
    reject.addEventListener("click", () => rejectOffer(id, reject));
    const bar = el("span", { class: "countdown-bar" });
    const countdown = el("span", { class: "countdown", dataset: { offer: id } }, el("span", { class: "countdown-track", "aria-hidden": "true" }, bar), el("span", { class: "countdown-text" }));
    const waited = el("span", { class: "offer-waited", dataset: { offerWaited: id } });
    return el("li", { class: "offer-card", dataset: { sessionId: id } },
      el("div", { class: "offer-head" }, customerAvatar(who),
        el("div", { class: "offer-who" },
          el("p", { class: "offer-name", text: name, title: detail }),
          detail ? el("p", { class: "customer-id mono", text: detail }) : null,
          el("p", { class: "offer-meta" }, el("span", { class: "chip", text: skillLabel(state.skills, d.skill) }), " ", waited))),
      d.transfer ? el("p", { class: "offer-transfer", dataset: { testid: "offer-transfer" } },
        el("strong", { text: handoverHeadline(d.transfer) }),
        d.transfer.note ? el("span", { class: "offer-transfer-note", text: ` · ${t("offer.transfer_note", { note: d.transfer.note })}` }) : null) : null,
      d.kind === "leave_message" && d.leave_message ? leaveMessageHeadline(d) : null,
      d.preview ? el("p", { class: "offer-preview", text: d.preview }) : null,
      countdown,
      el("div", { class: "offer-actions" }, reject, accept));
  }

  function render() {
    const list = $("offers");
    clear(list);
    const firstId = state.offers.keys().next().value;
    for (const [id, offer] of state.offers) list.append(card(id, offer, id === firstId));
    $("offers-count").textContent = String(state.offers.size);
    $("offers-empty").hidden = state.offers.size > 0;
    tick();
    desk.sessions.updateTitle();
  }

  function tick() {
    for (const [id, offer] of state.offers) {
      const left = Math.max(0, Math.ceil((offer.deadline - Date.now()) / 1000));
      const node = document.querySelector(`[data-offer="${CSS.escape(id)}"]`);
      if (node) {
        node.querySelector(".countdown-text").textContent = t("offer.expires_in", { s: left });
        node.querySelector(".countdown-bar").style.width = `${Math.min(100, (100 * left) / (offer.total || DEFAULT_OFFER_SECS))}%`;
        node.classList.toggle("urgent", left <= URGENT_SECS);
      }
      const w = document.querySelector(`[data-offer-waited="${CSS.escape(id)}"]`);
      if (w) {
        const base = Number(offer.data.waited_s) || 0;
        w.textContent = t("offer.waited", { time: fmtDuration(base + (Date.now() - offer.received) / 1000) });
      }
      // The server revokes expired offers; this only tidies one it never told us about.
      if (left === 0 && Date.now() - offer.deadline > STALE_OFFER_MS) remove(id);
    }
  }

  async function acceptOffer(id, btn) {
    btn.disabled = true;
    try {
      const result = await socket.request("accept", { session_id: id });
      remove(id);
      desk.sessions.add(result, { select: true });
      desk.conversation.focus();
    } catch (exc) {
      btn.disabled = false;
      toast(t("offer.accept_failed", { reason: failureText(exc) }), "error");
      if (exc instanceof SocketError && ["invalid_state", "not_found", "not_your_session"].includes(exc.code)) remove(id);
    }
  }

  async function rejectOffer(id, btn) {
    btn.disabled = true;
    try {
      await socket.request("reject", { session_id: id });
      remove(id);
    } catch (exc) {
      btn.disabled = false;
      toast(t("offer.reject_failed", { reason: failureText(exc) }), "error");
      if (exc instanceof SocketError && ["invalid_state", "not_found"].includes(exc.code)) remove(id);
    }
  }

  // Desktop notifications are asked for once, by a button (browsers refuse an unprompted ask).
  const notifyBtn = $("notify-enable");
  if ("Notification" in window && Notification.permission === "default") {
    notifyBtn.hidden = false;
    notifyBtn.addEventListener("click", async () => {
      try {
        await Notification.requestPermission();
      } finally {
        notifyBtn.hidden = Notification.permission === "default";
      }
    });
  }

  return { add, remove, render, tick };
}
