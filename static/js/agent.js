// The agent workbench: presence, offers, my sessions, the conversation with WeChat's reply
// limits, canned replies, the customer panel, transfer and close. State comes from the socket's
// welcome (replaced wholesale on resync) and is kept current by events; every handler is
// idempotent because a resumed socket may replay what a fresh welcome already contains.
import { initI18n, t, has } from "kefu/i18n";
import { api, auth, roleHome, signedInPage, ApiError } from "kefu/api";
import { KefuSocket, SocketError } from "kefu/socket";
import {
  el, clear, clock, fmtDuration, fmtAgo, fmtDateTime, everySecond, toast, customerName, customerAvatar,
  customerDetail, closedSentence, skillLabel, setupChrome, openDialog,
} from "kefu/ui";
import { Transcript, MessageView, previewText, errorText } from "kefu/messages";

await initI18n();

const user = auth.user;
if (!auth.token || !user) {
  location.replace("/");
  throw new Error("not signed in");
}
if (!(user.roles || []).includes("agent")) {
  const home = roleHome(user);
  if (home && home !== "/agent") location.replace(home);
}

const $ = (id) => document.getElementById(id);
const state = {
  presence: { status: "away", since: null },
  offers: new Map(), // session_id -> {data, deadline}
  sessions: new Map(), // session_id -> {session, transcript, unread, closed}
  active: null,
  closedView: null, // a session that closed while shown: {session, transcript, reason}
  skills: [],
  wrapups: [],
  canned: [],
  agents: null,
  pendingStatus: new Map(),
  customers: new Map(),
  profiles: new Map(), // openid -> the latest {openid, nickname, avatar_url} (event customer_updated)
};

const socket = new KefuSocket({ token: auth.token });
setupChrome({ user, onLogout: signedInPage(socket) });
// Diagnostics and the browser tests reach the live client here.
window.kefuDebug = { socket, state };

const view = new MessageView($("messages"), {
  me: user.id,
  names: (id) => agentName(id),
  onRetry: (msg) => retrySend(msg),
});

function agentName(id) {
  if (id === undefined || id === null) return null;
  if (String(id) === String(user.id)) return user.name || user.username;
  const a = (state.agents || []).find((x) => String(x.id) === String(id));
  return a ? a.name || a.username : null;
}

// WeChat's name and avatar of a customer may come after the offer or the session that shows them
// (event customer_updated): wherever a customer is shown, the latest profile for the openid wins.
function profileOf(customer, openid) {
  const c = customer || {};
  const id = c.openid || openid;
  const p = id ? state.profiles.get(id) : null;
  if (!p) return { ...c, openid: id };
  return { ...c, openid: id, nickname: p.nickname || c.nickname, avatar_url: p.avatar_url || c.avatar_url };
}

function nameOf(customer, openid) {
  return customerName(profileOf(customer, openid), openid);
}

function errText(exc) {
  if (exc instanceof SocketError || exc instanceof ApiError) return errorText(exc.code, exc.message);
  return (exc && exc.message) || String(exc);
}

// ---------------------------------------------------------------- reference data
async function loadReference() {
  // GET /api/agents is for supervisors and admins; a plain agent types the colleague's name instead.
  const staff = (user.roles || []).some((r) => r === "supervisor" || r === "admin");
  const [skills, canned, agents] = await Promise.allSettled([
    api("/api/skills"), api("/api/canned"), staff ? api("/api/agents") : Promise.reject(new Error("not staff"))]);
  if (skills.status === "fulfilled" && skills.value) {
    state.skills = skills.value.skills || [];
    state.wrapups = skills.value.wrapup_codes || [];
  }
  if (canned.status === "fulfilled" && canned.value) state.canned = canned.value.replies || [];
  if (agents.status === "fulfilled" && agents.value) state.agents = agents.value.agents || [];
  else state.agents = null;
  renderActive();
}

// ---------------------------------------------------------------- presence
function setPresence(p) {
  if (!p) return;
  state.presence = { status: p.status || state.presence.status, since: p.since || clock.now() };
  renderPresence();
}

function renderPresence() {
  for (const id of ["presence-available", "presence-away"]) {
    const btn = $(id);
    btn.setAttribute("aria-pressed", String(btn.dataset.status === state.presence.status));
  }
  document.body.dataset.presence = state.presence.status;
  // Wrap-up (after a close) and other server-side states show next to the switch.
  const other = !["available", "away"].includes(state.presence.status);
  $("presence-other").hidden = !other;
  if (other) $("presence-other").textContent = t(`presence.${state.presence.status}`);
  tickPresence();
}

function tickPresence() {
  const since = state.presence.since;
  const label = t(`presence.${state.presence.status}`) || state.presence.status;
  $("presence-timer").textContent = since ? fmtDuration(clock.now() - since) : "";
  $("presence-timer").setAttribute("aria-label", t("presence.for", { status: label, time: since ? fmtDuration(clock.now() - since) : "" }));
}

for (const id of ["presence-available", "presence-away"]) {
  $(id).addEventListener("click", async (ev) => {
    const status = ev.currentTarget.dataset.status;
    if (status === state.presence.status) return;
    try {
      setPresence(await socket.request("presence", { status }));
    } catch (exc) {
      toast(t("presence.failed", { reason: errText(exc) }), "error");
    }
  });
}

// ---------------------------------------------------------------- offers
const sound = new Audio(document.body.dataset.sound);
sound.preload = "auto";

function addOffer(data, { silent = false } = {}) {
  const id = String(data.session_id);
  if (state.sessions.has(id)) return;
  const existing = state.offers.get(id);
  const deadline = existing ? existing.deadline : Date.now() + (Number(data.expires_in) || 20) * 1000;
  state.offers.set(id, { data, deadline, total: Number(data.expires_in) || 20, received: Date.now() });
  renderOffers();
  if (!existing && !silent) alertOffer(data);
}

function alertOffer(data) {
  sound.currentTime = 0;
  sound.play().catch(() => {});
  const name = nameOf(data.customer);
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
  const from = tr.from_name || agentName(tr.from) || tr.from || "";
  const by = tr.by_name || agentName(tr.by) || tr.by || "";
  if (tr.kind === "assign") return t("offer.assigned_by", { name: by });
  if (tr.kind === "reassign") return t("offer.reassigned_by", { name: by, from });
  if (tr.to_skill) return t("offer.transfer_queue", { name: from });
  return t("offer.transfer_from", { name: from });
}

function removeOffer(id) {
  if (state.offers.delete(String(id))) renderOffers();
}

function renderOffers() {
  const list = $("offers");
  clear(list);
  for (const [id, offer] of state.offers) {
    const d = offer.data;
    const who = profileOf(d.customer);
    const name = customerName(who);
    const detail = customerDetail(who);
    const first = state.offers.keys().next().value === id;
    const accept = el("button", { type: "button", class: "btn btn-primary btn-sm", text: t("offer.accept"), "aria-label": t("offer.accept_named", { name }), "aria-keyshortcuts": first ? "Alt+A" : null });
    const reject = el("button", { type: "button", class: "btn btn-sm", text: t("offer.reject"), "aria-label": t("offer.reject_named", { name }) });
    accept.addEventListener("click", () => acceptOffer(id, accept));
    reject.addEventListener("click", () => rejectOffer(id, reject));
    const bar = el("span", { class: "countdown-bar" });
    const countdown = el("span", { class: "countdown", dataset: { offer: id } }, el("span", { class: "countdown-track", "aria-hidden": "true" }, bar), el("span", { class: "countdown-text" }));
    const waited = el("span", { class: "offer-waited", dataset: { offerWaited: id } });
    list.append(
      el("li", { class: "offer-card", dataset: { sessionId: id } },
        el("div", { class: "offer-head" }, customerAvatar(who),
          el("div", { class: "offer-who" },
            el("p", { class: "offer-name", text: name, title: detail }),
            detail ? el("p", { class: "customer-id mono", text: detail }) : null,
            el("p", { class: "offer-meta" }, el("span", { class: "chip", text: skillLabel(state.skills, d.skill) }), " ", waited))),
        d.transfer ? el("p", { class: "offer-transfer", dataset: { testid: "offer-transfer" } },
          el("strong", { text: handoverHeadline(d.transfer) }),
          d.transfer.note ? el("span", { class: "offer-transfer-note", text: ` · ${t("offer.transfer_note", { note: d.transfer.note })}` }) : null) : null,
        d.preview ? el("p", { class: "offer-preview", text: d.preview }) : null,
        countdown,
        el("div", { class: "offer-actions" }, reject, accept)),
    );
  }
  $("offers-count").textContent = String(state.offers.size);
  $("offers-empty").hidden = state.offers.size > 0;
  tickOffers();
  updateTitle();
}

function tickOffers() {
  for (const [id, offer] of state.offers) {
    const left = Math.max(0, Math.ceil((offer.deadline - Date.now()) / 1000));
    const node = document.querySelector(`[data-offer="${CSS.escape(id)}"]`);
    if (node) {
      node.querySelector(".countdown-text").textContent = t("offer.expires_in", { s: left });
      node.querySelector(".countdown-bar").style.width = `${Math.min(100, (100 * left) / (offer.total || 20))}%`;
      node.classList.toggle("urgent", left <= 5);
    }
    const w = document.querySelector(`[data-offer-waited="${CSS.escape(id)}"]`);
    if (w) {
      const base = Number(offer.data.waited_s) || 0;
      w.textContent = t("offer.waited", { time: fmtDuration(base + (Date.now() - offer.received) / 1000) });
    }
    // The server revokes expired offers; this only tidies one it never told us about.
    if (left === 0 && Date.now() - offer.deadline > 10000) removeOffer(id);
  }
}

async function acceptOffer(id, btn) {
  btn.disabled = true;
  try {
    const result = await socket.request("accept", { session_id: id });
    removeOffer(id);
    addSession(result, { select: true });
    focusConversation();
  } catch (exc) {
    btn.disabled = false;
    toast(t("offer.accept_failed", { reason: errText(exc) }), "error");
    if (exc instanceof SocketError && ["invalid_state", "not_found", "not_your_session"].includes(exc.code)) removeOffer(id);
  }
}

async function rejectOffer(id, btn) {
  btn.disabled = true;
  try {
    await socket.request("reject", { session_id: id });
    removeOffer(id);
  } catch (exc) {
    btn.disabled = false;
    toast(t("offer.reject_failed", { reason: errText(exc) }), "error");
    if (exc instanceof SocketError && ["invalid_state", "not_found"].includes(exc.code)) removeOffer(id);
  }
}

// ---------------------------------------------------------------- sessions
function addSession({ session, messages, history }, { select = false } = {}) {
  if (!session) return;
  const id = String(session.id);
  removeOffer(id);
  let entry = state.sessions.get(id);
  if (entry) {
    entry.session = { ...entry.session, ...session };
    for (const m of messages || []) {
      reconcile(entry, m);
      entry.transcript.upsert(m);
    }
  } else {
    entry = { session, transcript: new Transcript(messages || []), unread: 0 };
    state.sessions.set(id, entry);
  }
  if (history) state.customers.set(session.openid, { ...(state.customers.get(session.openid) || {}), history });
  for (const m of entry.transcript.list) applyPendingStatus(entry, m.id);
  if (state.closedView && String(state.closedView.session.id) === id) state.closedView = null;
  renderSessions();
  if (select || (!state.active && !state.closedView)) selectSession(id);
  else if (state.active === id) renderActive(true);
}

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

function renderSessions() {
  const list = $("sessions");
  const entries = [...state.sessions.values()].sort((a, b) => (lastCustomerTs(b) || 0) - (lastCustomerTs(a) || 0));
  clear(list);
  for (const entry of entries) {
    const s = entry.session;
    const id = String(s.id);
    const who = profileOf(s.customer, s.openid);
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
    btn.addEventListener("click", () => selectSession(id));
    list.append(el("li", {}, btn));
  }
  $("sessions-count").textContent = String(state.sessions.size);
  $("sessions-empty").hidden = state.sessions.size > 0;
  tickSessions();
  updateTitle();
}

function tickSessions() {
  for (const node of document.querySelectorAll("[data-ago-session]")) {
    const entry = state.sessions.get(node.dataset.agoSession);
    if (!entry) continue;
    const ts = lastCustomerTs(entry);
    node.textContent = ts ? fmtAgo(clock.now() - ts) : "";
    node.title = t("sessions.customer_last_wrote");
  }
}

function updateTitle() {
  let unread = 0;
  for (const e of state.sessions.values()) unread += e.unread;
  const n = unread + state.offers.size;
  const base = `${t("agent.title")} · ${t("app.name")}`;
  document.title = n ? `(${n}) ${base}` : base;
}

function selectSession(id) {
  saveDraft();
  state.closedView = null;
  state.active = id;
  const entry = state.sessions.get(id);
  if (entry) entry.unread = 0;
  renderSessions();
  renderActive(true);
  if (entry) loadCustomer(entry.session);
}

// Keyboard work goes on in the composer; a closed conversation has none, so its messages.
function focusConversation() {
  const input = $("composer-input");
  if (!$("conv").hidden && !input.disabled) input.focus();
  else if (!$("conv").hidden) $("messages").focus();
}

// ---------------------------------------------------------------- keyboard shortcuts
// Alt+A accepts the oldest offer; Alt+ArrowDown / Alt+ArrowUp move to the next / previous
// conversation in the list's order. Key codes, not characters: they work whatever the keyboard
// layout or input method (documented in the README and in the sidebar's hint).
document.addEventListener("keydown", (ev) => {
  if (!ev.altKey || ev.ctrlKey || ev.metaKey || ev.shiftKey || ev.isComposing) return;
  if (document.querySelector("dialog[open]")) return;
  if (ev.code === "KeyA") {
    const first = document.querySelector("#offers .offer-card button[aria-keyshortcuts]");
    if (!first) return;
    ev.preventDefault();
    first.click();
  } else if (ev.code === "ArrowDown" || ev.code === "ArrowUp") {
    const ids = [...document.querySelectorAll("#sessions .session-item")].map((b) => b.dataset.sessionId);
    if (!ids.length) return;
    ev.preventDefault();
    const at = ids.indexOf(state.active);
    const step = ev.code === "ArrowDown" ? 1 : -1;
    const next = at < 0 ? ids[step > 0 ? 0 : ids.length - 1] : ids[(at + step + ids.length) % ids.length];
    selectSession(next);
    focusConversation();
  }
});

function activeEntry() {
  if (state.closedView) return state.closedView;
  return state.active ? state.sessions.get(state.active) : null;
}

function renderActive(full = false) {
  const entry = activeEntry();
  $("conv-empty").hidden = !!entry;
  $("conv").hidden = !entry;
  if (!entry) {
    view.transcript = null;
    renderCustomer(null);
    return;
  }
  const s = entry.session;
  const who = profileOf(s.customer, s.openid);
  $("conv-avatar").replaceChildren(customerAvatar(who));
  $("conv-title").textContent = customerName(who);
  $("conv-title").title = customerDetail(who) || "";
  const meta = [customerDetail(who), skillLabel(state.skills, s.skill)];
  if (s.accepted_at) meta.push(t("conv.accepted_at", { time: fmtDateTime(s.accepted_at) }));
  if (s.transfers && s.transfers.length) meta.push(t("conv.transferred_n", { n: s.transfers.length }));
  const pending = s.handover && s.handover.status === "pending" && s.handover.to_agent ? s.handover : null;
  if (pending) meta.push(t("conv.transfer_pending", { name: agentName(pending.to_agent) || pending.to_name || pending.to_agent }));
  $("conv").dataset.transferPending = pending ? "true" : "false";
  $("conv-meta").textContent = meta.filter(Boolean).join(" · ");
  const closed = !!entry.closed;
  $("conv-closed").hidden = !closed;
  if (closed) $("conv-closed").textContent = t("conv.closed", { sentence: closedSentence(entry.closed) });
  $("btn-transfer").disabled = closed;
  $("btn-close").disabled = closed;
  if (full || view.transcript !== entry.transcript) {
    view.show(entry.transcript);
    const input = $("composer-input");
    input.value = closed ? "" : loadDraft(String(s.id));
  }
  renderBudget();
  renderCustomer(s);
}

// ---------------------------------------------------------------- reply budget
function budgetState(entry) {
  if (!entry || entry.closed) return { can: false, reason: "closed" };
  const b = entry.session.budget;
  if (!b) return { can: true, unknown: true };
  const windowLeft = b.window_ends_at ? b.window_ends_at - clock.now() : null;
  if (windowLeft !== null && windowLeft <= 0) return { can: false, reason: "window_closed", b, windowLeft: 0 };
  if (b.can_reply === false) return { can: false, reason: b.reason || "quota_used", b, windowLeft };
  if (typeof b.replies_left === "number" && b.replies_left <= 0) return { can: false, reason: "quota_used", b, windowLeft };
  return { can: true, b, windowLeft };
}

function renderBudget() {
  const entry = activeEntry();
  const st = budgetState(entry);
  const input = $("composer-input");
  const send = $("send");
  const warn = $("budget-warning");
  const win = $("budget-window");
  const rep = $("budget-replies");
  const connected = socket.isOpen;
  input.disabled = !st.can;
  send.disabled = !st.can || !connected;
  $("composer").classList.toggle("composer-disabled", !st.can);
  if (st.b) {
    const max = st.b.replies_max || 5;
    const left = typeof st.b.replies_left === "number" ? st.b.replies_left : max;
    win.textContent = st.windowLeft !== null && st.windowLeft !== undefined
      ? t("budget.window_left", { time: fmtDuration(st.windowLeft) }) : "";
    rep.textContent = t("budget.replies_left", { n: left, max });
    rep.classList.toggle("budget-low", left <= 1);
    win.classList.toggle("budget-low", st.windowLeft !== null && st.windowLeft < 3600);
  } else {
    win.textContent = "";
    rep.textContent = "";
  }
  let text = "";
  let level = "";
  if (!st.can) {
    if (st.reason === "closed") text = t("budget.closed");
    else text = t(`budget.${st.reason}`) || t("budget.cannot_reply");
    level = "error";
    input.placeholder = text;
  } else {
    input.placeholder = t("agent.composer_placeholder");
    if (st.b && st.b.replies_left === 1) {
      text = t("budget.last_reply");
      level = "warn";
    } else if (st.windowLeft !== null && st.windowLeft !== undefined && st.windowLeft < 3600) {
      text = t("budget.window_closing", { time: fmtDuration(st.windowLeft) });
      level = "warn";
    }
  }
  if (!connected && st.can) {
    text = t("conn.send_disabled");
    level = "warn";
  }
  warn.hidden = !text;
  warn.textContent = text;
  warn.dataset.level = level;
}

// ---------------------------------------------------------------- drafts
function draftKey(id) {
  return `kefu.draft.${id}`;
}
function loadDraft(id) {
  return sessionStorage.getItem(draftKey(id)) || "";
}
function saveDraft() {
  const entry = state.active && state.sessions.get(state.active);
  if (!entry) return;
  const value = $("composer-input").value;
  if (value) sessionStorage.setItem(draftKey(state.active), value);
  else sessionStorage.removeItem(draftKey(state.active));
}

// ---------------------------------------------------------------- sending
// Every reply carries a client id (docs/protocol.md, send): its bubble is the local copy
// "local-<client id>" until the server's message with that client id replaces it, from the
// send's result, the message event or a welcome, whichever comes first. A request lost with the
// socket leaves the bubble "sending" and is sent again under the same client id once the socket
// is back; the server answers the stored message, so nothing is doubled and no ghost is left.
// A reply is "failed" only when the server says so.
const inFlight = new Set(); // client ids whose send request is under way

function newClientId() {
  const bytes = crypto.getRandomValues(new Uint8Array(16)); // randomUUID needs a secure context
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function entryOf(sessionId) {
  const id = String(sessionId);
  if (state.sessions.has(id)) return state.sessions.get(id);
  return state.closedView && String(state.closedView.session.id) === id ? state.closedView : null;
}

// The server's copy of one of my replies arrived: it takes the local copy's place.
function reconcile(entry, message) {
  if (!message || !message.client_id) return;
  const localId = `local-${message.client_id}`;
  if (!entry.transcript.get(localId)) return;
  entry.transcript.remove(localId);
  if (activeEntry() === entry) view.sync(localId);
}

async function sendText(text, sessionId, localMsg) {
  const entry = entryOf(sessionId);
  if (!entry) return;
  const clientId = localMsg ? localMsg.client_id : newClientId();
  if (inFlight.has(clientId)) return;
  const temp = localMsg || {
    id: `local-${clientId}`, client_id: clientId, _local: true, session_id: sessionId, direction: "out",
    author: "agent", author_id: user.id, type: "text", text, ts: clock.now(), status: "pending",
  };
  if (localMsg) entry.transcript.upsert({ id: temp.id, status: "pending", error: null });
  else entry.transcript.upsert(temp);
  if (activeEntry() === entry) view.sync(temp.id);
  inFlight.add(clientId);
  try {
    const result = await socket.request("send", { session_id: sessionId, text, client_id: clientId });
    if (result && result.message) {
      reconcile(entry, result.message);
      entry.transcript.upsert(result.message);
      applyPendingStatus(entry, result.message.id);
      if (activeEntry() === entry) view.sync(result.message.id);
    }
    renderSessions();
  } catch (exc) {
    // Lost with the socket (or unanswered): the server may have it. It stays "sending" and is
    // sent again after the reconnect (resendUnsettled).
    if (exc instanceof SocketError && (exc.code === "disconnected" || exc.code === "timeout")) return;
    if (!entry.transcript.get(temp.id)) return; // the server's copy arrived meanwhile
    entry.transcript.upsert({ id: temp.id, status: "failed", error: { code: exc.code, message: errText(exc) } });
    if (activeEntry() === entry) view.sync(temp.id);
  } finally {
    inFlight.delete(clientId);
  }
}

// After a (re)connect: every reply still only local is sent again under its client id.
function resendUnsettled() {
  const entries = [...state.sessions.values()];
  if (state.closedView) entries.push(state.closedView);
  for (const entry of entries) {
    for (const m of [...entry.transcript.list]) {
      if (m._local && m.status === "pending" && !inFlight.has(m.client_id)) sendText(m.text, String(entry.session.id), m);
    }
  }
}

function retrySend(msg) {
  const sessionId = String(msg.session_id);
  if (!socket.isOpen) {
    toast(t("conn.send_disabled"), "warn");
    return;
  }
  sendText(msg.text, sessionId, msg);
}

$("composer").addEventListener("submit", (ev) => {
  ev.preventDefault();
  submitComposer();
});

function submitComposer() {
  const input = $("composer-input");
  const text = input.value.trim();
  const entry = state.active && state.sessions.get(state.active);
  if (!text || !entry || !budgetState(entry).can) return;
  if (!socket.isOpen) {
    $("composer-error").textContent = t("conn.send_disabled");
    return;
  }
  $("composer-error").textContent = "";
  input.value = "";
  sessionStorage.removeItem(draftKey(state.active));
  closeCanned();
  sendText(text, state.active);
  input.focus();
}

// ---------------------------------------------------------------- composer + canned replies
const input = $("composer-input");
const cannedList = $("canned");
let cannedItems = [];
let cannedIndex = 0;

input.addEventListener("input", () => {
  saveDraft();
  updateCanned();
});
input.addEventListener("keydown", (ev) => {
  if (!cannedList.hidden) {
    if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
      ev.preventDefault();
      const n = cannedItems.length;
      if (n) cannedIndex = (cannedIndex + (ev.key === "ArrowDown" ? 1 : n - 1)) % n;
      renderCannedSelection();
      return;
    }
    if ((ev.key === "Enter" || ev.key === "Tab") && !ev.shiftKey && cannedItems.length) {
      ev.preventDefault();
      pickCanned(cannedItems[cannedIndex]);
      return;
    }
    if (ev.key === "Escape") {
      ev.preventDefault();
      closeCanned();
      return;
    }
  }
  // Enter sends; Shift+Enter breaks the line; never while an IME is composing (pinyin input).
  if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing && ev.keyCode !== 229) {
    ev.preventDefault();
    submitComposer();
  }
});
input.addEventListener("blur", () => setTimeout(closeCanned, 150));

function updateCanned() {
  const value = input.value;
  if (!value.startsWith("/") || value.includes("\n")) {
    closeCanned();
    return;
  }
  const q = value.slice(1).toLowerCase();
  cannedItems = state.canned.filter((r) => (r.shortcut || "").toLowerCase().includes(q) || (r.text || "").toLowerCase().includes(q)).slice(0, 8);
  cannedIndex = 0;
  clear(cannedList);
  if (!cannedItems.length) {
    cannedList.append(el("li", { class: "canned-empty", role: "option", "aria-disabled": "true", text: state.canned.length ? t("canned.no_match") : t("canned.none") }));
  }
  cannedItems.forEach((r, i) => {
    const item = el("li", { id: `canned-${i}`, role: "option", class: "canned-item", "aria-selected": "false" },
      el("span", { class: "canned-shortcut mono", text: `/${r.shortcut || ""}` }),
      el("span", { class: "canned-text", text: r.text || "" }));
    item.addEventListener("mousedown", (ev) => {
      ev.preventDefault();
      pickCanned(r);
    });
    cannedList.append(item);
  });
  cannedList.hidden = false;
  input.setAttribute("aria-expanded", "true");
  renderCannedSelection();
}

function renderCannedSelection() {
  cannedItems.forEach((_, i) => {
    const node = document.getElementById(`canned-${i}`);
    if (node) node.setAttribute("aria-selected", String(i === cannedIndex));
  });
  if (cannedItems.length) input.setAttribute("aria-activedescendant", `canned-${cannedIndex}`);
  else input.removeAttribute("aria-activedescendant");
  const sel = document.getElementById(`canned-${cannedIndex}`);
  if (sel) sel.scrollIntoView({ block: "nearest" });
}

function pickCanned(reply) {
  input.value = reply.text || "";
  closeCanned();
  saveDraft();
  input.focus();
}

function closeCanned() {
  cannedList.hidden = true;
  input.setAttribute("aria-expanded", "false");
  input.removeAttribute("aria-activedescendant");
}

// ---------------------------------------------------------------- customer panel
function renderCustomer(session) {
  $("customer-empty").hidden = !!session;
  $("customer").hidden = !session;
  if (!session) return;
  const openid = session.openid || (session.customer && session.customer.openid);
  const info = state.customers.get(openid) || {};
  const c = profileOf({ ...(session.customer || {}), ...(info.customer || {}) }, openid);
  $("customer-avatar").replaceChildren(customerAvatar(c, openid));
  $("customer-name").textContent = customerName(c, openid);
  $("customer-openid").textContent = openid || "";
  const facts = $("customer-facts");
  clear(facts);
  const addFact = (key, value) => {
    if (value === undefined || value === null || value === "") return;
    facts.append(el("dt", { text: t(key) }), el("dd", { text: String(value) }));
  };
  addFact("customer.skill", skillLabel(state.skills, session.skill));
  addFact("customer.first_seen", c.first_seen ? fmtDateTime(c.first_seen) : null);
  addFact("customer.last_seen", c.last_seen ? fmtDateTime(c.last_seen) : null);
  for (const key of ["city", "province", "country", "language"]) addFact(`customer.${key}`, c[key]);
  const tags = $("customer-tags");
  clear(tags);
  const tagList = c.tags || [];
  if (!tagList.length) tags.append(el("li", { class: "muted small", text: t("customer.no_tags") }));
  for (const tag of tagList) tags.append(el("li", { class: "tag", text: typeof tag === "string" ? tag : tag.name || tag.label || "" }));
  const hist = $("history");
  clear(hist);
  const past = (info.history || []).filter((h) => String(h.id) !== String(session.id));
  if (!past.length) hist.append(el("li", { class: "muted small", text: info.loading ? t("common.loading") : t("customer.no_history") }));
  for (const h of past.slice(0, 20)) {
    const btn = el("button", { type: "button", class: "history-item" },
      el("span", { class: "history-date", text: fmtDateTime(h.created_at || h.queued_at) }),
      el("span", { class: "history-meta", text: [skillLabel(state.skills, h.skill), h.wrapup ? wrapupLabel(h.wrapup) : t(`state.${h.state}`)].filter(Boolean).join(" · ") }));
    btn.addEventListener("click", () => openHistory(h.id));
    hist.append(el("li", {}, btn));
  }
}

async function loadCustomer(session) {
  const openid = session.openid || (session.customer && session.customer.openid);
  if (!openid) return;
  const cached = state.customers.get(openid) || {};
  if (cached.fetchedAt && Date.now() - cached.fetchedAt < 30000) return;
  state.customers.set(openid, { ...cached, loading: true, fetchedAt: Date.now() });
  const enc = encodeURIComponent(openid);
  const [customer, sessions] = await Promise.allSettled([api(`/api/customers/${enc}`), api(`/api/customers/${enc}/sessions`)]);
  const next = { ...state.customers.get(openid), loading: false };
  if (customer.status === "fulfilled" && customer.value) next.customer = customer.value.customer || customer.value;
  if (sessions.status === "fulfilled" && sessions.value) next.history = sessions.value.sessions || [];
  state.customers.set(openid, next);
  const entry = activeEntry();
  if (entry && (entry.session.openid || (entry.session.customer || {}).openid) === openid) renderCustomer(entry.session);
}

async function openHistory(id) {
  const dialog = $("history-dialog");
  const list = $("history-messages");
  list.replaceChildren(el("li", { class: "muted", text: t("common.loading") }));
  $("history-meta").textContent = "";
  openDialog(dialog);
  try {
    const data = await api(`/api/sessions/${encodeURIComponent(id)}`);
    const s = data.session || {};
    $("history-meta").textContent = [s.openid ? nameOf(s.customer, s.openid) : null, fmtDateTime(s.created_at), skillLabel(state.skills, s.skill), s.wrapup ? wrapupLabel(s.wrapup) : null, s.note].filter(Boolean).join(" · ");
    const hv = new MessageView(list, { me: user.id, names: agentName });
    hv.show(new Transcript(data.messages || []));
    if (!(data.messages || []).length) list.append(el("li", { class: "muted", text: t("history.empty") }));
  } catch (exc) {
    list.replaceChildren(el("li", { class: "form-error", text: t("history.failed", { reason: errText(exc) }) }));
  }
}

// ---------------------------------------------------------------- transfer
function wrapupCode(w) {
  return typeof w === "string" ? w : w.code || w.name || w.id;
}
function wrapupLabel(code) {
  const found = state.wrapups.find((w) => wrapupCode(w) === code);
  if (found && typeof found === "object" && (found.label || found.name)) return found.label || found.name;
  return has(`wrapup.${code}`) ? t(`wrapup.${code}`) : code;
}

$("btn-transfer").addEventListener("click", () => {
  const entry = activeEntry();
  if (!entry || entry.closed) return;
  const skillSel = $("transfer-skill");
  clear(skillSel);
  for (const s of state.skills) skillSel.append(el("option", { value: s.name, text: s.label || s.name }));
  if (!state.skills.length) skillSel.append(el("option", { value: entry.session.skill || "general", text: entry.session.skill || "general" }));
  skillSel.value = entry.session.skill || skillSel.value;
  const agentSel = $("transfer-agent");
  const agentText = $("transfer-agent-text");
  clear(agentSel);
  const others = (state.agents || []).filter((a) => String(a.id) !== String(user.id));
  if (state.agents) {
    for (const a of others) {
      const status = t(`presence.${a.status}`);
      agentSel.append(el("option", { value: a.id, text: `${a.name || a.username} · ${status}` }));
    }
    agentSel.hidden = false;
    agentText.hidden = true;
    $("transfer-agent-hint").hidden = true;
  } else {
    agentSel.hidden = true;
    agentText.hidden = false;
    agentText.value = "";
    $("transfer-agent-hint").hidden = false;
  }
  $("transfer-note").value = "";
  $("transfer-error").hidden = true;
  document.querySelector('#transfer-form input[value="skill"]').checked = true;
  syncTransferTarget();
  openDialog($("transfer-dialog"));
});

function syncTransferTarget() {
  const toAgent = document.querySelector('#transfer-form input[name="target"]:checked').value === "agent";
  $("transfer-skill-field").hidden = toAgent;
  $("transfer-agent-field").hidden = !toAgent;
  // The visible agent control is the one the label points at.
  $("transfer-agent-field").querySelector("label").htmlFor = state.agents ? "transfer-agent" : "transfer-agent-text";
}
for (const radio of document.querySelectorAll('#transfer-form input[name="target"]')) radio.addEventListener("change", syncTransferTarget);

$("transfer-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const entry = activeEntry();
  if (!entry) return;
  const toAgent = document.querySelector('#transfer-form input[name="target"]:checked').value === "agent";
  const fields = { session_id: entry.session.id };
  if (toAgent) {
    const value = state.agents ? $("transfer-agent").value : $("transfer-agent-text").value.trim();
    if (!value) return showFormError("transfer-error", t("transfer.pick_agent"));
    fields.to_agent = value;
  } else {
    fields.to_skill = $("transfer-skill").value;
  }
  const note = $("transfer-note").value.trim();
  if (note) fields.note = note;
  const submit = $("transfer-submit");
  submit.disabled = true;
  try {
    // The server says what happened; the list follows the server's events (session_closed when the
    // session has left this desk), never a guess made here.
    const result = await socket.request("transfer", fields);
    $("transfer-dialog").close();
    if (result && result.status === "offered") {
      const name = agentName(result.to_agent) || result.to_name || fields.to_agent;
      toast(t("transfer.offered", { name }), "info");
    } else {
      toast(t("transfer.to_queue_done", { skill: skillLabel(state.skills, fields.to_skill) }), "success");
    }
  } catch (exc) {
    showFormError("transfer-error", t("transfer.failed", { reason: errText(exc) }));
  } finally {
    submit.disabled = false;
  }
});

function showFormError(id, text) {
  $(id).textContent = text;
  $(id).hidden = !text;
}

// ---------------------------------------------------------------- close
$("btn-close").addEventListener("click", () => {
  const entry = activeEntry();
  if (!entry || entry.closed) return;
  const sel = $("close-wrapup");
  clear(sel);
  sel.append(el("option", { value: "", text: t("close.pick") }));
  for (const w of state.wrapups) {
    const code = wrapupCode(w);
    sel.append(el("option", { value: code, text: wrapupLabel(code) }));
  }
  if (!state.wrapups.length) sel.append(el("option", { value: "resolved", text: "resolved" }));
  $("close-note").value = "";
  $("close-error").hidden = true;
  openDialog($("close-dialog"), { focus: sel });
});

$("close-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const entry = activeEntry();
  if (!entry) return;
  const wrapup = $("close-wrapup").value;
  if (!wrapup) return showFormError("close-error", t("close.pick_required"));
  const fields = { session_id: entry.session.id, wrapup };
  const note = $("close-note").value.trim();
  if (note) fields.note = note;
  const submit = $("close-submit");
  submit.disabled = true;
  try {
    await socket.request("close", fields);
    $("close-dialog").close();
    toast(t("close.done"), "success");
    markClosed(String(entry.session.id), "closed");
  } catch (exc) {
    showFormError("close-error", t("close.failed", { reason: errText(exc) }));
  } finally {
    submit.disabled = false;
  }
});

for (const btn of document.querySelectorAll("dialog [data-close]")) {
  btn.addEventListener("click", () => btn.closest("dialog").close());
}

// A session that left my desk: out of the list; if it was on screen, it stays readable there
// with a banner until I pick another one.
function markClosed(id, reason) {
  const entry = state.sessions.get(id);
  if (!entry) return;
  state.sessions.delete(id);
  sessionStorage.removeItem(draftKey(id));
  if (state.active === id) {
    entry.closed = reason || "closed";
    state.closedView = entry;
    state.active = null;
  }
  renderSessions();
  renderActive();
}

// ---------------------------------------------------------------- socket events
function applyWelcome(body) {
  if (body.user) auth.setUser({ ...user, ...body.user });
  setPresence(body.presence || state.presence);
  const fresh = new Set();
  for (const item of body.sessions || []) {
    const s = item.session || item;
    fresh.add(String(s.id));
    addSession({ session: s, messages: item.messages || [] });
  }
  for (const id of [...state.sessions.keys()]) if (!fresh.has(id)) markClosed(id, "closed");
  const offers = new Set();
  for (const o of body.offers || []) {
    offers.add(String(o.session_id));
    addOffer(o, { silent: state.offers.has(String(o.session_id)) });
  }
  for (const id of [...state.offers.keys()]) if (!offers.has(id)) removeOffer(id);
  renderSessions();
  renderActive();
}

socket.on("welcome", (frame, { resumed }) => {
  applyWelcome(frame);
  // Safe even for a reply the server stored before the socket died: it answers that message.
  resendUnsettled();
  syncClock();
  if (resumed) toast(t("conn.restored"), "success", { timeoutMs: 3000 });
});
socket.on("resync", (body) => {
  applyWelcome(body);
  toast(t("conn.resynced"), "info", { timeoutMs: 4000 });
});
socket.on("event:offer", (d) => addOffer(d));
socket.on("event:offer_revoked", (d) => {
  if (state.offers.has(String(d.session_id))) {
    removeOffer(d.session_id);
    if (d.reason && d.reason !== "taken") toast(t(`revoked.${d.reason}`), "info");
  }
});
socket.on("event:session_assigned", (d) => {
  const isNew = d.session && !state.sessions.has(String(d.session.id));
  addSession(d);
  if (isNew && d.session && d.session.transfers && d.session.transfers.length) toast(t("transfer.received", { name: nameOf(d.session.customer, d.session.openid) }), "info");
});
socket.on("event:message", (d) => onMessage(d.session_id, d.message));
socket.on("event:whisper", (d) => onMessage(d.session_id, d.message ? { type: "whisper", ...d.message } : null));
socket.on("event:message_status", (d) => {
  const entry = state.sessions.get(String(d.session_id)) || (state.closedView && String(state.closedView.session.id) === String(d.session_id) ? state.closedView : null);
  if (!entry || !entry.transcript.setStatus(d.message_id, d.status, d.error)) {
    state.pendingStatus.set(String(d.message_id), { status: d.status, error: d.error });
    return;
  }
  if (activeEntry() === entry) view.sync(d.message_id);
  if (d.status === "failed") toast(t("status.failed_toast", { reason: (d.error && (errorText(d.error.code, d.error.message))) || "" }), "error");
});
socket.on("event:session_closed", (d) => {
  const id = String(d.session_id);
  if (state.sessions.has(id)) {
    const entry = state.sessions.get(id);
    if (d.reason && d.reason !== "closed" && d.reason !== "transferred") {
      toast(t("conv.closed_toast", { name: nameOf(entry.session.customer, entry.session.openid), reason: closedSentence(d.reason) }), "info");
    }
    markClosed(id, d.reason);
  }
  removeOffer(id);
});
socket.on("event:session_updated", (d) => {
  const s = d.session;
  if (!s) return;
  const entry = state.sessions.get(String(s.id));
  if (!entry) return;
  entry.session = { ...entry.session, ...s };
  renderSessions();
  if (state.active === String(s.id)) renderActive();
});
socket.on("event:customer_updated", (d) => {
  const c = d.customer;
  if (!c || !c.openid) return;
  state.profiles.set(c.openid, c);
  const info = state.customers.get(c.openid);
  if (info && info.customer) info.customer = { ...info.customer, nickname: c.nickname, avatar_url: c.avatar_url };
  const shows = (cust, openid) => (openid || (cust || {}).openid) === c.openid;
  // Repaint only what shows this customer (a repaint moves keyboard focus off an offer's buttons).
  if ([...state.offers.values()].some((o) => shows(o.data.customer))) renderOffers();
  if ([...state.sessions.values()].some((e) => shows(e.session.customer, e.session.openid))) renderSessions();
  const entry = activeEntry();
  if (entry && shows(entry.session.customer, entry.session.openid)) renderActive();
});
socket.on("event:presence", (d) => {
  if (String(d.agent_id) !== String(user.id)) return;
  const changed = d.status !== state.presence.status;
  setPresence({ status: d.status, since: d.since });
  if (changed && d.reason) toast(t("presence.changed", { status: t(`presence.${d.status}`), reason: t(`presence_reason.${d.reason}`) }), "warn");
});
socket.on("event:notice", (d) => {
  let text = has(`notice.${d.code}`) ? t(`notice.${d.code}`) : d.text || d.code;
  if (d.code === "transfer_returned" && d.outcome) {
    const key = `notice.transfer_returned_${d.outcome}`;
    text = has(key) ? t(key, { name: agentName(d.declined_by) || d.name || d.declined_by }) : d.text || text;
  }
  toast(text, d.level === "warning" ? "warn" : d.level || "info", { timeoutMs: 10000 });
});

function onMessage(sessionId, message) {
  if (!message) return;
  const id = String(sessionId || message.session_id);
  const entry = state.sessions.get(id) || (state.closedView && String(state.closedView.session.id) === id ? state.closedView : null);
  if (!entry) return;
  // My own reply echoed by the server (before the send's result, or after a lost socket): it
  // replaces the local copy with its client id, so the message is never on screen twice.
  if (message.direction === "out" && String(message.author_id) === String(user.id)) reconcile(entry, message);
  const change = entry.transcript.upsert(message);
  if (!change) return;
  applyPendingStatus(entry, message.id);
  const shown = activeEntry() === entry;
  if (shown) view.sync(message.id);
  if (change === "added" && (message.direction === "in" || message.type === "whisper")) {
    if (!shown || document.hidden) entry.unread += 1;
    if (message.type === "whisper" && !shown) toast(t("msg.whisper_toast", { name: nameOf(entry.session.customer, entry.session.openid) }), "info");
  }
  renderSessions();
}

document.addEventListener("visibilitychange", () => {
  if (document.hidden) return;
  const entry = state.active && state.sessions.get(state.active);
  if (entry && entry.unread) {
    entry.unread = 0;
    renderSessions();
  }
});

// ---------------------------------------------------------------- connection
let bannerTimer = null;
let lastConnState = null;
let serverSilent = false; // the heartbeat gave the socket up; until the next open
socket.on("state", (st, detail = {}) => {
  lastConnState = st;
  if (detail.dead) serverSilent = true;
  if (st === "open") serverSilent = false;
  const conn = $("conn-status");
  conn.dataset.state = st;
  $("conn-text").textContent = t(`conn.${st}`);
  const banner = $("conn-banner");
  clearInterval(bannerTimer);
  if (st === "offline") {
    banner.hidden = false;
    const tick = () => {
      const left = Math.max(0, Math.ceil((detail.retryAt - Date.now()) / 1000));
      $("conn-banner-text").textContent = serverSilent
        ? t("conn.dead_retry_in", { s: left, t: socket.heartbeat.timeout_s })
        : t("conn.lost_retry_in", { s: left });
    };
    tick();
    bannerTimer = setInterval(tick, 500);
  } else if (st === "reconnecting") {
    banner.hidden = false;
    $("conn-banner-text").textContent = t("conn.reconnecting_long");
  } else if (st === "open") {
    banner.hidden = true;
  }
  renderBudget();
});
$("conn-retry").addEventListener("click", () => socket.retryNow());
socket.on("fatal", (code) => {
  if (code === 4010 || code === 4001) {
    auth.clear();
    $("conn-banner").hidden = false;
    $("conn-banner-text").textContent = t("conn.signed_out");
    $("conn-retry").hidden = true;
    setTimeout(() => location.replace("/"), 2500);
  }
});

async function syncClock() {
  const t0 = Date.now();
  try {
    const r = await socket.request("ping", {}, { timeoutMs: 5000 });
    const t1 = Date.now();
    if (r && typeof r.ts === "number") clock.offsetMs = r.ts * 1000 - (t0 + t1) / 2;
  } catch {
    clock.offsetMs = 0;
  }
}

// ---------------------------------------------------------------- notifications
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

everySecond(() => {
  tickPresence();
  tickOffers();
  tickSessions();
  if (activeEntry()) renderBudget();
});

renderPresence();
renderOffers();
renderSessions();
renderActive();
$("conn-status").dataset.state = "connecting";
$("conn-text").textContent = t("conn.connecting");
socket.connect();
loadReference();

