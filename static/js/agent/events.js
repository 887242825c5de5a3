// What the socket tells the workbench. State comes from the welcome (replaced wholesale on a
// resync) and is kept current by events; every handler is idempotent because a resumed socket may
// replay what a fresh welcome already contains.
import { t, has } from "kefu/i18n";
import { auth } from "kefu/api";
import { toast, closedSentence } from "kefu/ui";
import { errorText } from "kefu/messages";
import { syncClock } from "kefu/connection";

export function wireEvents(desk) {
  const { state, socket, user, view } = desk;
  const nameOf = (session) => state.profiles.nameOf(session.customer, session.openid);

  function applyWelcome(body) {
    if (body.user) auth.setUser({ ...user, ...body.user });
    desk.presence.set(body.presence || state.presence);
    const fresh = new Set();
    for (const item of body.sessions || []) {
      const s = item.session || item;
      fresh.add(String(s.id));
      desk.sessions.add({ session: s, messages: item.messages || [] });
    }
    for (const id of [...state.sessions.keys()]) if (!fresh.has(id)) desk.sessions.markClosed(id, "closed");
    const offers = new Set();
    for (const o of body.offers || []) {
      offers.add(String(o.session_id));
      desk.offers.add(o, { silent: state.offers.has(String(o.session_id)) });
    }
    for (const id of [...state.offers.keys()]) if (!offers.has(id)) desk.offers.remove(id);
    desk.sessions.render();
    desk.conversation.render();
  }

  function onMessage(sessionId, message) {
    if (!message) return;
    const entry = desk.sessions.entryOf(sessionId || message.session_id);
    if (!entry) return;
    // My own reply echoed by the server (before the send's result, or after a lost socket): it
    // replaces the local copy with its client id, so the message is never on screen twice.
    if (message.direction === "out" && String(message.author_id) === String(user.id)) desk.replies.reconcile(entry, message);
    const change = entry.transcript.upsert(message);
    if (!change) return;
    desk.sessions.applyPendingStatus(entry, message.id);
    const shown = desk.sessions.active() === entry;
    if (shown) view.sync(message.id);
    if (change === "added" && (message.direction === "in" || message.type === "whisper")) {
      if (!shown || document.hidden) entry.unread += 1;
      if (message.type === "whisper" && !shown) toast(t("msg.whisper_toast", { name: nameOf(entry.session) }), "info");
    }
    // A template message (信息推送) reached the customer: the customer panel's list reads it again.
    if (change === "added" && message.type === "template" && shown) desk.customer.refresh(entry.session);
    desk.sessions.render();
  }

  socket.on("welcome", (frame, { resumed }) => {
    applyWelcome(frame);
    // Safe even for a reply the server stored before the socket died: it answers that message.
    desk.replies.resendUnsettled();
    syncClock(socket);
    if (resumed) toast(t("conn.restored"), "success", { timeoutMs: 3000 });
  });
  socket.on("resync", (body) => {
    applyWelcome(body);
    toast(t("conn.resynced"), "info", { timeoutMs: 4000 });
  });
  socket.on("event:offer", (d) => desk.offers.add(d));
  socket.on("event:offer_revoked", (d) => {
    if (state.offers.has(String(d.session_id))) {
      desk.offers.remove(d.session_id);
      if (d.reason && d.reason !== "taken") toast(t(`revoked.${d.reason}`), "info");
    }
  });
  socket.on("event:session_assigned", (d) => {
    const isNew = d.session && !state.sessions.has(String(d.session.id));
    desk.sessions.add(d);
    if (isNew && d.session && d.session.transfers && d.session.transfers.length) toast(t("transfer.received", { name: nameOf(d.session) }), "info");
  });
  socket.on("event:message", (d) => onMessage(d.session_id, d.message));
  socket.on("event:whisper", (d) => onMessage(d.session_id, d.message ? { type: "whisper", ...d.message } : null));
  socket.on("event:message_status", (d) => {
    const entry = desk.sessions.entryOf(d.session_id);
    if (!entry || !entry.transcript.setStatus(d.message_id, d.status, d.error)) {
      state.pendingStatus.set(String(d.message_id), { status: d.status, error: d.error });
      return;
    }
    if (desk.sessions.active() === entry) view.sync(d.message_id);
    if (d.status === "failed") toast(t("status.failed_toast", { reason: (d.error && (errorText(d.error.code, d.error.message))) || "" }), "error");
  });
  socket.on("event:session_closed", (d) => {
    const id = String(d.session_id);
    if (state.sessions.has(id)) {
      const entry = state.sessions.get(id);
      if (d.reason && d.reason !== "closed" && d.reason !== "transferred") {
        toast(t("conv.closed_toast", { name: nameOf(entry.session), reason: closedSentence(d.reason) }), "info");
      }
      desk.sessions.markClosed(id, d.reason);
    }
    desk.offers.remove(id);
  });
  socket.on("event:session_updated", (d) => {
    const s = d.session;
    if (!s) return;
    const entry = state.sessions.get(String(s.id));
    if (!entry) return;
    entry.session = { ...entry.session, ...s };
    desk.sessions.render();
    if (state.active === String(s.id)) desk.conversation.render();
  });
  socket.on("event:customer_updated", (d) => {
    const c = d.customer;
    if (!c || !c.openid) return;
    state.profiles.remember(c);
    const info = state.customers.get(c.openid);
    if (info && info.customer) info.customer = { ...info.customer, nickname: c.nickname, avatar_url: c.avatar_url };
    // Tags and a note an agent changed (pushed to every console showing the customer).
    // A bank customer bound (or unbound) through self-service: the profile is read again over REST
    // (the event says only whether one is bound; the read checks who asks).
    if ("bank_bound" in c) {
      const known = state.customers.get(c.openid);
      if (known && known.customer && !!known.customer.bank !== c.bank_bound) {
        state.customers.set(c.openid, { ...known, fetchedAt: 0 });
        const active = desk.sessions.active();
        if (active && (active.session.openid || (active.session.customer || {}).openid) === c.openid) desk.customer.load(active.session);
      }
    }
    if ("note" in c || "tags" in c) {
      const known = state.customers.get(c.openid) || {};
      state.customers.set(c.openid, { ...known, customer: { ...(known.customer || {}), tags: c.tags || [], note: c.note || null } });
    }
    const shows = (cust, openid) => (openid || (cust || {}).openid) === c.openid;
    // Repaint only what shows this customer (a repaint moves keyboard focus off an offer's buttons).
    if ([...state.offers.values()].some((o) => shows(o.data.customer))) desk.offers.render();
    if ([...state.sessions.values()].some((e) => shows(e.session.customer, e.session.openid))) desk.sessions.render();
    const entry = desk.sessions.active();
    if (entry && shows(entry.session.customer, entry.session.openid)) desk.conversation.render();
  });
  socket.on("event:presence", (d) => {
    if (String(d.agent_id) !== String(user.id)) return;
    const changed = d.status !== state.presence.status;
    desk.presence.set({ status: d.status, since: d.since });
    if (changed && d.reason) toast(t("presence.changed", { status: t(`presence.${d.status}`), reason: t(`presence_reason.${d.reason}`) }), "warn");
  });
  socket.on("event:notice", (d) => {
    let text = has(`notice.${d.code}`) ? t(`notice.${d.code}`) : d.text || d.code;
    if (d.code === "transfer_returned" && d.outcome) {
      const key = `notice.transfer_returned_${d.outcome}`;
      text = has(key) ? t(key, { name: desk.agentName(d.declined_by) || d.name || d.declined_by }) : d.text || text;
    }
    toast(text, d.level === "warning" ? "warn" : d.level || "info", { timeoutMs: 10000 });
  });
}
