// My sessions: the list (latest customer message first, unread counts, "cannot reply" chips),
// which one is on screen, and a session leaving my desk. One entry per session id:
// {session, transcript, unread, closed}; a session that closed while shown stays readable as
// state.closedView until I pick another one.
import { t } from "kefu/i18n";
import { el, clear, clock, fmtAgo, customerName, customerAvatar, customerDetail, byId as $ } from "kefu/ui";
import { Transcript, previewText } from "kefu/messages";

export function createSessions(desk) {
  const { state } = desk;

  function add({ session, messages, history }, { select: pick = false } = {}) {
    if (!session) return;
    const id = String(session.id);
    desk.offers.remove(id);
    let entry = state.sessions.get(id);
    if (entry) {
      entry.session = { ...entry.session, ...session };
      for (const m of messages || []) {
        desk.replies.reconcile(entry, m);
        entry.transcript.upsert(m);
      }
    } else {
      entry = { session, transcript: new Transcript(messages || []), unread: 0 };
      state.sessions.set(id, entry);
    }
    if (history) state.customers.set(session.openid, { ...(state.customers.get(session.openid) || {}), history });
    for (const m of entry.transcript.list) applyPendingStatus(entry, m.id);
    if (state.closedView && String(state.closedView.session.id) === id) state.closedView = null;
    render();
    if (pick || (!state.active && !state.closedView)) select(id);
    else if (state.active === id) desk.conversation.render(true);
  }

  // A status that came before its message (message_status is not ordered with the send's result).
  function applyPendingStatus(entry, msgId) {
    const st = state.pendingStatus.get(String(msgId));
    if (st) {
      entry.transcript.setStatus(msgId, st.status, st.error);
      state.pendingStatus.delete(String(msgId));
    }
  }

  function lastCustomerTs(entry) {
    const m = entry.transcript.lastInbound();
    return m ? m.ts : entry.session.queued_at || entry.session.created_at;
  }

  function item(entry) {
    const s = entry.session;
    const id = String(s.id);
    const who = state.profiles.of(s.customer, s.openid);
    const name = customerName(who);
    const last = [...entry.transcript.list].reverse().find((m) => m.type !== "whisper" && m.type !== "note");
    const budget = s.budget || {};
    const btn = el("button", { type: "button", class: "session-item", dataset: { sessionId: id }, "aria-current": state.active === id ? "true" : null },
      customerAvatar(who),
      el("span", { class: "session-main" },
        el("span", { class: "session-top" },
          el("span", { class: "session-name", text: name, title: customerDetail(who) }),
          el("span", { class: "session-ago", dataset: { agoSession: id } })),
        el("span", { class: "session-bottom" },
          el("span", { class: "session-preview", text: previewText(last) }),
          budget.can_reply === false ? el("span", { class: "chip chip-warn", text: t("budget.no_reply_short") }) : null,
          entry.unread ? el("span", { class: "badge", text: String(entry.unread), "aria-label": t("sessions.unread", { n: entry.unread }) }) : null)));
    btn.addEventListener("click", () => select(id));
    return el("li", {}, btn);
  }

  function render() {
    const list = $("sessions");
    const entries = [...state.sessions.values()].sort((a, b) => (lastCustomerTs(b) || 0) - (lastCustomerTs(a) || 0));
    clear(list);
    for (const entry of entries) list.append(item(entry));
    $("sessions-count").textContent = String(state.sessions.size);
    $("sessions-empty").hidden = state.sessions.size > 0;
    tick();
    updateTitle();
  }

  function tick() {
    for (const node of document.querySelectorAll("[data-ago-session]")) {
      const entry = state.sessions.get(node.dataset.agoSession);
      if (!entry) continue;
      const ts = lastCustomerTs(entry);
      node.textContent = ts ? fmtAgo(clock.now() - ts) : "";
      node.title = t("sessions.customer_last_wrote");
    }
  }

  // The tab's title counts what waits for me: unread messages and offers.
  function updateTitle() {
    let unread = 0;
    for (const e of state.sessions.values()) unread += e.unread;
    const n = unread + state.offers.size;
    const base = `${t("agent.title")} · ${t("app.name")}`;
    document.title = n ? `(${n}) ${base}` : base;
  }

  function select(id) {
    desk.composer.saveDraft();
    state.closedView = null;
    state.active = id;
    const entry = state.sessions.get(id);
    if (entry) entry.unread = 0;
    render();
    desk.conversation.render(true);
    if (entry) desk.customer.load(entry.session);
  }

  /** The entry on screen: the selected session, or one that closed while shown. */
  function active() {
    if (state.closedView) return state.closedView;
    return state.active ? state.sessions.get(state.active) : null;
  }

  /** A session of mine by id, or the closed one still on screen. */
  function entryOf(sessionId) {
    const id = String(sessionId);
    if (state.sessions.has(id)) return state.sessions.get(id);
    return state.closedView && String(state.closedView.session.id) === id ? state.closedView : null;
  }

  // A session that left my desk: out of the list; if it was on screen, it stays readable there
  // with a banner until I pick another one.
  function markClosed(id, reason) {
    const entry = state.sessions.get(id);
    if (!entry) return;
    state.sessions.delete(id);
    desk.composer.dropDraft(id);
    if (state.active === id) {
      entry.closed = reason || "closed";
      state.closedView = entry;
      state.active = null;
    }
    render();
    desk.conversation.render();
  }

  // Back to the tab: the conversation on screen has been read.
  document.addEventListener("visibilitychange", () => {
    if (document.hidden) return;
    const entry = state.active && state.sessions.get(state.active);
    if (entry && entry.unread) {
      entry.unread = 0;
      render();
    }
  });

  return { add, applyPendingStatus, render, tick, updateTitle, select, active, entryOf, markClosed };
}
