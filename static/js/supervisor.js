// The supervisor wall: live queues and agents (subscribe_queues), live sessions, a 30-minute
// chart, and one monitored session with whisper, barge-in, reassign and "why was it routed here".
import { initI18n, t, has } from "kefu/i18n";
import { api, auth, roleHome, signedInPage, ApiError } from "kefu/api";
import { KefuSocket, SocketError } from "kefu/socket";
import {
  el, clear, clock, fmtDuration, everySecond, toast, customerName, avatar, customerAvatar, customerDetail, skillLabel,
  setupChrome, fmtDateTime, fmtAgo, closedSentence,
} from "kefu/ui";
import { Transcript, MessageView, errorText } from "kefu/messages";
import { LiveChart } from "kefu/chart";

await initI18n();

const user = auth.user;
if (!auth.token || !user) {
  location.replace("/");
  throw new Error("not signed in");
}
const roles = user.roles || [];
const canAct = roles.includes("supervisor") || roles.includes("admin");
if (!canAct && !roles.includes("qa")) {
  const home = roleHome(user);
  if (home && home !== "/supervisor") location.replace(home);
}

const $ = (id) => document.getElementById(id);
const state = {
  queues: [],
  agents: [],
  sessions: [],
  skills: [],
  updatedAt: null, // the server's time of the last wall picture (its ts)
  receivedAt: null, // when that picture arrived here (Date.now())
  refreshSecs: 5, // how often the server repaints a quiet wall (queues' refresh_secs)
  monitored: null, // {id, session, transcript, closed}
  profiles: new Map(), // openid -> the latest {openid, nickname, avatar_url} (event customer_updated)
};

const socket = new KefuSocket({ token: auth.token });
setupChrome({ user, onLogout: signedInPage(socket) });
$("readonly-chip").hidden = canAct;
document.body.classList.toggle("readonly", !canAct);

window.kefuDebug = { socket, state };

const chart = new LiveChart($("chart"), {
  nowFn: () => clock.now(),
  fmtTime: (m) => (m ? t("chart.minutes_ago", { n: m }) : t("chart.now")),
  label: (p) => (p ? t("chart.aria", { waiting: p.waiting, sl: p.sl === null ? "—" : `${Math.round(p.sl)}%` }) : t("chart.no_data")),
});

const view = new MessageView($("monitor-messages"), { names: agentName, whisperKey: "msg.whisper_seen_by_agent" });

function agentName(id) {
  if (id === undefined || id === null) return null;
  const a = state.agents.find((x) => String(x.id) === String(id));
  if (a) return a.name || a.username;
  if (String(id) === String(user.id)) return user.name || user.username;
  return null;
}

// WeChat's name and avatar may come after the wall listed the session (event customer_updated).
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

function slPercent(v) {
  if (v === null || v === undefined || Number.isNaN(Number(v))) return null;
  const n = Number(v);
  return n <= 1 ? n * 100 : n;
}

// ---------------------------------------------------------------- snapshot
function applySnapshot(data) {
  if (!data) return;
  if (data.queues) state.queues = data.queues;
  if (data.agents) state.agents = data.agents;
  if (data.sessions) state.sessions = data.sessions;
  state.updatedAt = data.ts || clock.now();
  state.receivedAt = Date.now();
  if (Number(data.refresh_secs) > 0) state.refreshSecs = Number(data.refresh_secs);
  const waiting = state.queues.reduce((n, q) => n + (q.waiting || 0), 0);
  const sls = state.queues.map((q) => slPercent(q.service_level)).filter((v) => v !== null);
  const sl = sls.length ? sls.reduce((a, b) => a + b, 0) / sls.length : null;
  chart.add(state.updatedAt, waiting, sl);
  renderQueues();
  renderAgents();
  renderLive();
  if (state.monitored) {
    const s = state.sessions.find((x) => String(x.id) === state.monitored.id);
    if (s) state.monitored.session = { ...state.monitored.session, ...s };
    renderMonitorHead();
  }
}

function renderQueues() {
  const list = $("queues");
  clear(list);
  let total = 0;
  for (const q of state.queues) {
    total += q.waiting || 0;
    const a = q.agents || {};
    const sl = slPercent(q.service_level);
    list.append(
      el("li", { class: `queue-card${q.waiting ? " has-waiting" : ""}`, dataset: { skill: q.skill } },
        el("p", { class: "queue-name", text: skillLabel(state.skills, q.skill) }),
        el("p", { class: "queue-waiting" },
          el("span", { class: "queue-number", text: String(q.waiting || 0), dataset: { testid: `waiting-${q.skill}` } }),
          el("span", { class: "queue-unit", text: t("queues.waiting") })),
        el("dl", { class: "queue-facts" },
          el("dt", { text: t("queues.longest") }), el("dd", { text: q.waiting ? fmtDuration(q.longest_wait_s || 0) : "—", dataset: { longest: q.skill } }),
          el("dt", { text: t("queues.service_level") }), el("dd", { text: sl === null ? "—" : `${Math.round(sl)}%`, class: sl !== null && sl < 80 ? "bad" : "" })),
        el("p", { class: "queue-agents" },
          el("span", { class: "pill pill-available", text: t("queues.n_available", { n: a.available || 0 }) }),
          el("span", { class: "pill pill-busy", text: t("queues.n_busy", { n: a.busy || 0 }) }),
          el("span", { class: "pill pill-away", text: t("queues.n_away", { n: a.away || 0 }) }),
          el("span", { class: "pill pill-offline", text: t("queues.n_offline", { n: a.offline || 0 }) }))),
    );
  }
  if (!state.queues.length) list.append(el("li", { class: "empty", text: t("queues.empty") }));
  $("queues-total").textContent = t("queues.total", { n: total });
  renderUpdatedAt();
}

// The server repaints the wall every refresh_secs even when nothing changes: three repaints
// missed means the picture is stale (events stopped), not that the desk is quiet.
const STALE_AFTER_REFRESHES = 3;
function renderUpdatedAt() {
  const node = $("updated-at");
  if (!state.updatedAt) {
    node.textContent = "";
    return;
  }
  const time = new Date(state.updatedAt * 1000).toLocaleTimeString();
  const silentSecs = (Date.now() - state.receivedAt) / 1000;
  const stale = silentSecs > STALE_AFTER_REFRESHES * state.refreshSecs;
  node.classList.toggle("stale", stale);
  node.textContent = stale ? t("supervisor.stale", { time, ago: fmtAgo(silentSecs) }) : t("supervisor.updated", { time });
}

function agentSessions(a) {
  return (a.sessions || []).map((s) => (typeof s === "object" ? s : state.sessions.find((x) => String(x.id) === String(s)) || { id: s }));
}

function renderAgents() {
  const body = $("agents");
  clear(body);
  const counts = { available: 0, busy: 0, wrapup: 0, away: 0, offline: 0 };
  const sorted = [...state.agents].sort((a, b) => statusRank(a.status) - statusRank(b.status) || String(a.name).localeCompare(String(b.name)));
  for (const a of sorted) {
    counts[a.status] = (counts[a.status] || 0) + 1;
    const name = a.name || a.username || String(a.id);
    let statusCell;
    if (canAct && a.status !== "offline" && a.status !== "disconnected") {
      const sel = el("select", { class: "status-select", "aria-label": t("agents.set_status_for", { name }), dataset: { agentId: a.id } },
        ...["available", "away"].map((s) => el("option", { value: s, text: t(`presence.${s}`) })));
      // busy, wrap-up and any other state the engine reports is shown but cannot be chosen.
      if (!["available", "away"].includes(a.status)) sel.prepend(el("option", { value: a.status, text: t(`presence.${a.status}`), disabled: true }));
      sel.value = a.status;
      sel.addEventListener("change", () => setAgentPresence(a, sel.value, sel));
      statusCell = el("span", { class: `status status-${a.status}` }, el("span", { class: "dot", "aria-hidden": "true" }), sel);
    } else {
      statusCell = el("span", { class: `status status-${a.status}` }, el("span", { class: "dot", "aria-hidden": "true" }), t(`presence.${a.status}`));
    }
    const cap = a.capacity || a.max_sessions || 0;
    const load = a.load || 0;
    const meter = el("span", { class: "meter", role: "meter", "aria-valuemin": "0", "aria-valuemax": String(cap || 1), "aria-valuenow": String(load), "aria-label": t("agents.load_of", { load, cap }) },
      el("span", { class: "meter-fill" }));
    meter.firstChild.style.width = `${cap ? Math.min(100, (100 * load) / cap) : 0}%`;
    const sess = agentSessions(a);
    const sessCell = el("td", { class: "agent-sessions" });
    for (const s of sess) {
      const label = nameOf(s.customer, s.openid) || String(s.id);
      const b = el("button", { type: "button", class: "chip chip-link", text: label, title: customerDetail(profileOf(s.customer, s.openid)), "aria-label": t("live.monitor_named", { name: label }) });
      b.addEventListener("click", () => startMonitor(String(s.id)));
      sessCell.append(b, " ");
    }
    if (!sess.length) sessCell.append(el("span", { class: "muted", text: "—" }));
    body.append(
      el("tr", { dataset: { agentId: a.id, status: a.status } },
        el("th", { scope: "row" }, el("span", { class: "agent-cell" }, avatar(name, a.id), el("span", { text: name }))),
        el("td", {}, statusCell),
        el("td", { class: "mono", dataset: { since: a.since || "" } }, a.since ? fmtDuration(clock.now() - a.since) : "—"),
        el("td", {}, el("span", { class: "load" }, meter, el("span", { class: "mono small", text: `${load}/${cap}` }))),
        sessCell),
    );
  }
  if (!state.agents.length) body.append(el("tr", {}, el("td", { colspan: "5", class: "empty", text: t("agents.empty") })));
  $("agents-summary").textContent = t("agents.summary", counts);
}

function statusRank(s) {
  return { busy: 0, available: 1, wrapup: 2, away: 3, offline: 4 }[s] ?? 5;
}

async function setAgentPresence(agent, status, sel) {
  sel.disabled = true;
  try {
    await socket.request("set_presence", { agent_id: agent.id, status });
    toast(t("agents.presence_set", { name: agent.name || agent.username, status: t(`presence.${status}`) }), "success", { timeoutMs: 3000 });
  } catch (exc) {
    sel.value = agent.status;
    toast(t("agents.presence_failed", { reason: errText(exc) }), "error");
  } finally {
    sel.disabled = false;
  }
}

function sessionDuration(s) {
  const start = s.state === "assigned" ? s.accepted_at || s.queued_at : s.queued_at || s.created_at;
  return start ? clock.now() - start : 0;
}

function renderLive() {
  const body = $("live");
  clear(body);
  const sessions = [...state.sessions].sort((a, b) => (a.state === "assigned") - (b.state === "assigned") || sessionDuration(b) - sessionDuration(a));
  for (const s of sessions) {
    const id = String(s.id);
    const who = profileOf(s.customer, s.openid);
    const name = customerName(who);
    const detail = customerDetail(who);
    const watch = el("button", { type: "button", class: "btn btn-sm", text: t("live.monitor"), "aria-label": t("live.monitor_named", { name }) });
    watch.addEventListener("click", () => startMonitor(id));
    const row = el("tr", { dataset: { sessionId: id }, class: state.monitored && state.monitored.id === id ? "is-selected" : "" },
      el("th", { scope: "row" }, el("span", { class: "agent-cell" }, customerAvatar(who),
        el("span", { class: "customer-cell", title: detail }, el("span", { text: name }),
          detail ? el("span", { class: "customer-id mono", text: detail }) : null))),
      el("td", { text: skillLabel(state.skills, s.skill) }),
      el("td", {}, el("span", { class: `state state-${s.state}`, text: t(`state.${s.state}`) })),
      el("td", { text: agentName(s.agent_id) || (s.agent_id ? String(s.agent_id) : "—") }),
      el("td", { class: "mono", dataset: { dur: id } }, fmtDuration(sessionDuration(s))),
      el("td", { class: "actions" }, watch));
    body.append(row);
  }
  $("live-empty").hidden = sessions.length > 0;
  $("live-summary").textContent = t("live.summary", { n: sessions.length });
}

function tick() {
  renderUpdatedAt();
  for (const td of document.querySelectorAll("#agents td[data-since]")) {
    const since = Number(td.dataset.since);
    if (since) td.textContent = fmtDuration(clock.now() - since);
  }
  for (const td of document.querySelectorAll("#live td[data-dur]")) {
    const s = state.sessions.find((x) => String(x.id) === td.dataset.dur);
    if (s) td.textContent = fmtDuration(sessionDuration(s));
  }
  for (const dd of document.querySelectorAll("[data-longest]")) {
    const q = state.queues.find((x) => x.skill === dd.dataset.longest);
    if (q && q.waiting && state.updatedAt) dd.textContent = fmtDuration((q.longest_wait_s || 0) + (clock.now() - state.updatedAt));
  }
}

// The engine explains itself with ids; people read names.
function humanize(text) {
  if (!text) return "";
  let out = String(text);
  for (const a of state.agents) if (a.id) out = out.split(String(a.id)).join(a.name || a.username || a.id);
  for (const s of state.sessions) if (s.id) out = out.split(String(s.id)).join(nameOf(s.customer, s.openid));
  const m = state.monitored;
  if (m && m.session) out = out.split(String(m.id)).join(nameOf(m.session.customer, m.session.openid));
  return out;
}

// ---------------------------------------------------------------- monitoring
async function startMonitor(id) {
  if (state.monitored && state.monitored.id !== id) {
    const old = state.monitored.id;
    socket.request("unmonitor", { session_id: old }).catch(() => {});
  }
  const known = state.sessions.find((x) => String(x.id) === id) || { id };
  if (!state.monitored || state.monitored.id !== id) {
    state.monitored = { id, session: known, transcript: new Transcript(), closed: null, earlier: 0 };
    $("explain").hidden = true;
    $("btn-explain").setAttribute("aria-expanded", "false");
  }
  renderMonitorHead();
  view.show(state.monitored.transcript);
  renderLive();
  try {
    const result = await socket.request("monitor", { session_id: id });
    if (!state.monitored || state.monitored.id !== id) return;
    if (result.session) state.monitored.session = { ...state.monitored.session, ...result.session };
    // A repeat of a session this socket monitors already answers no messages: keep what we have.
    if (!result.already_monitoring) state.monitored.earlier = result.earlier || 0;
    for (const m of result.messages || []) state.monitored.transcript.upsert(m);
    view.show(state.monitored.transcript);
    renderMonitorHead();
    $("sup-input").focus();
  } catch (exc) {
    toast(t("monitor.failed", { reason: errText(exc) }), "error");
  }
}

function stopMonitor() {
  if (!state.monitored) return;
  socket.request("unmonitor", { session_id: state.monitored.id }).catch(() => {});
  state.monitored = null;
  renderMonitorHead();
  renderLive();
}
$("monitor-stop").addEventListener("click", stopMonitor);

// The socket sends the latest messages only; the whole transcript is one REST read, on request.
$("monitor-earlier-load").addEventListener("click", async () => {
  const m = state.monitored;
  if (!m) return;
  try {
    const data = await api(`/api/sessions/${encodeURIComponent(m.id)}`);
    if (state.monitored !== m) return;
    for (const msg of data.messages || []) m.transcript.upsert(msg);
    m.earlier = 0;
    view.show(m.transcript);
    renderMonitorHead();
  } catch (exc) {
    toast(t("monitor.earlier_failed", { reason: errText(exc) }), "error");
  }
});

function renderMonitorHead() {
  const m = state.monitored;
  $("monitor-empty").hidden = !!m;
  $("monitor-body").hidden = !m;
  if (!m) return;
  const s = m.session || {};
  const who = profileOf(s.customer, s.openid);
  $("monitor-avatar").replaceChildren(customerAvatar(who));
  $("monitor-title").textContent = customerName(who);
  $("monitor-title").title = customerDetail(who) || "";
  $("monitor-meta").textContent = [customerDetail(who), skillLabel(state.skills, s.skill), s.state ? t(`state.${s.state}`) : "", s.agent_id ? t("monitor.with_agent", { name: agentName(s.agent_id) || s.agent_id }) : "", s.created_at ? fmtDateTime(s.created_at) : ""].filter(Boolean).join(" · ");
  const closed = m.closed || s.state === "closed";
  $("monitor-closed").hidden = !closed;
  if (closed) $("monitor-closed").textContent = t("monitor.closed", { sentence: closedSentence(m.closed || s.close_reason || "closed") });
  $("monitor-earlier").hidden = !m.earlier;
  if (m.earlier) $("monitor-earlier-text").textContent = t("monitor.earlier", { shown: m.transcript.list.length, earlier: m.earlier });
  const sel = $("reassign-agent");
  const current = sel.value;
  clear(sel);
  for (const a of state.agents) {
    if (String(a.id) === String(s.agent_id) || a.status === "offline") continue;
    sel.append(el("option", { value: a.id, text: `${a.name || a.username} · ${t(`presence.${a.status}`)}` }));
  }
  const choices = sel.options.length;
  if (!choices) sel.append(el("option", { value: "", text: t("monitor.no_agents") }));
  if ([...sel.options].some((o) => o.value === current)) sel.value = current;
  const assigned = s.state === "assigned" && !closed;
  // A waiting session can be handed to a named agent too (the engine offers it to them at once).
  const movable = ["assigned", "queued", "offered"].includes(s.state) && !closed;
  $("reassign").hidden = !canAct;
  $("btn-reassign").disabled = !movable || !choices;
  sel.disabled = !movable || !choices;
  $("sup-composer").hidden = !canAct;
  $("btn-whisper").disabled = !assigned;
  $("btn-barge").disabled = !assigned;
  $("sup-input").disabled = !assigned;
  const b = s.budget;
  $("sup-budget").textContent = b ? t("budget.replies_left", { n: b.replies_left ?? "?", max: b.replies_max || 5 }) + (b.can_reply === false ? ` · ${t(`budget.${b.reason || "quota_used"}`)}` : "") : "";
}

function onMonitoredMessage(d) {
  const m = state.monitored;
  if (!m || String(d.session_id) !== m.id || !d.message) return;
  if (m.transcript.upsert(d.message)) view.sync(d.message.id);
}
socket.on("event:message", onMonitoredMessage);
socket.on("event:whisper", (d) => onMonitoredMessage({ ...d, message: d.message && { type: "whisper", ...d.message } }));
socket.on("event:message_status", (d) => {
  const m = state.monitored;
  if (m && String(d.session_id) === m.id && m.transcript.setStatus(d.message_id, d.status, d.error)) view.sync(d.message_id);
});
socket.on("event:session_closed", (d) => {
  const m = state.monitored;
  if (m && String(d.session_id) === m.id) {
    m.closed = d.reason || "closed";
    renderMonitorHead();
  }
});
socket.on("event:session_updated", (d) => {
  const m = state.monitored;
  if (m && d.session && String(d.session.id) === m.id) {
    m.session = { ...m.session, ...d.session };
    renderMonitorHead();
  }
});
socket.on("event:queues", (d) => applySnapshot(d));
socket.on("event:customer_updated", (d) => {
  const c = d.customer;
  if (!c || !c.openid) return;
  state.profiles.set(c.openid, c);
  const m = state.monitored;
  if (state.sessions.some((s) => s.openid === c.openid)) {
    renderAgents();
    renderLive();
  }
  if (m && m.session && m.session.openid === c.openid) renderMonitorHead();
});
socket.on("event:presence", (d) => {
  const a = state.agents.find((x) => String(x.id) === String(d.agent_id));
  if (a) {
    a.status = d.status;
    if (d.since) a.since = d.since;
    renderAgents();
  }
});
socket.on("event:notice", (d) => toast(has(`notice.${d.code}`) ? t(`notice.${d.code}`) : d.text || d.code, d.level === "warning" ? "warn" : d.level || "info"));

async function supSend(kind) {
  const m = state.monitored;
  const input = $("sup-input");
  const text = input.value.trim();
  if (!m || !text) return;
  $("sup-error").textContent = "";
  try {
    const result = await socket.request(kind, { session_id: m.id, text });
    input.value = "";
    if (result && result.message) {
      const msg = kind === "whisper" ? { type: "whisper", ...result.message } : result.message;
      if (m.transcript.upsert(msg)) view.sync(msg.id);
    }
  } catch (exc) {
    $("sup-error").textContent = t(kind === "whisper" ? "monitor.whisper_failed" : "monitor.barge_failed", { reason: errText(exc) });
  }
}
$("sup-composer").addEventListener("submit", (ev) => {
  ev.preventDefault();
  supSend("whisper");
});
$("sup-input").addEventListener("keydown", (ev) => {
  if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing && ev.keyCode !== 229) {
    ev.preventDefault();
    supSend(ev.ctrlKey || ev.metaKey ? "barge" : "whisper");
  }
});
$("btn-barge").addEventListener("click", () => supSend("barge"));

$("btn-reassign").addEventListener("click", async () => {
  const m = state.monitored;
  const to = $("reassign-agent").value;
  if (!m || !to) return;
  try {
    // Only an offer so far: the outcome arrives as a reassign_result event when the agent answers.
    await socket.request("reassign", { session_id: m.id, to_agent: to });
    toast(t("monitor.reassign_offered", { name: agentName(to) || to }), "info");
  } catch (exc) {
    toast(t("monitor.reassign_failed", { reason: errText(exc) }), "error");
  }
});

socket.on("event:reassign_result", (d) => {
  const name = agentName(d.to_agent) || d.to_name || d.to_agent;
  const key = has(`reassign.${d.outcome}`) ? `reassign.${d.outcome}` : "reassign.withdrawn";
  toast(t(key, { name }), d.outcome === "accepted" ? "success" : "warn", { timeoutMs: 8000 });
  // An explanation on screen is stale now: fetch the current one.
  if (state.monitored && String(d.session_id) === state.monitored.id && !$("explain").hidden) showExplanation();
});

$("btn-explain").addEventListener("click", async () => {
  const m = state.monitored;
  const box = $("explain");
  const btn = $("btn-explain");
  if (!m) return;
  if (!box.hidden) {
    box.hidden = true;
    btn.setAttribute("aria-expanded", "false");
    return;
  }
  box.hidden = false;
  btn.setAttribute("aria-expanded", "true");
  box.replaceChildren(el("p", { class: "muted", text: t("common.loading") }));
  await showExplanation();
});

async function showExplanation() {
  const m = state.monitored;
  const box = $("explain");
  if (!m) return;
  try {
    const r = await socket.request("explain", { session_id: m.id });
    if (!state.monitored || state.monitored.id !== m.id) return;
    box.replaceChildren(...renderExplanation(r));
  } catch (exc) {
    box.replaceChildren(el("p", { class: "form-error", text: t("monitor.explain_failed", { reason: errText(exc) }) }));
  }
}

// The engine's explanation as codes and parameters (routing/wording.py), in this console's language,
// with names instead of ids. A sentence without a code (an older record) shows its English text.
const AGENT_PARAMS = new Set(["agent", "from_agent", "original"]);
const SKILL_PARAMS = new Set(["skill", "from_skill", "to_skill", "via"]);

function phrase(p, fallback) {
  if (!p || !p.code || !has(`explain.${p.code}`)) return humanize(fallback || "");
  const vars = {};
  for (const [k, v] of Object.entries(p.params || {})) {
    if (v && typeof v === "object" && v.code) vars[k] = phrase(v, "");
    else if (k === "session") vars[k] = sessionName(v);
    else if (AGENT_PARAMS.has(k)) vars[k] = agentName(v) || v;
    else if (SKILL_PARAMS.has(k)) vars[k] = skillLabel(state.skills, v);
    else if (k.endsWith("_s") && typeof v === "number") vars[k] = fmtDuration(v);
    else vars[k] = v;
  }
  return t(`explain.${p.code}`, vars);
}

function sessionName(id) {
  const m = state.monitored;
  if (m && String(m.id) === String(id) && m.session) return customerName(m.session.customer, m.session.openid);
  const s = state.sessions.find((x) => String(x.id) === String(id));
  return s ? customerName(s.customer, s.openid) : String(id);
}

function renderExplanation(r) {
  const x = r.explanation;
  if (!x) return [el("p", { class: "explain-text", text: humanize(r.text) || t("monitor.no_explanation") })];
  const out = [el("p", { class: "explain-text", dataset: { testid: "explain-summary" }, text: phrase(x.summary_code, x.summary) })];
  if (x.strategy) {
    const strategy = has(`explain.strategy.${x.strategy}`) ? t(`explain.strategy.${x.strategy}`) : x.strategy;
    out.push(el("p", { class: "explain-text", text: x.skill
      ? t("explain.strategy_line", { skill: skillLabel(state.skills, x.skill), strategy })
      : t("explain.strategy_line_noskill", { strategy }) }));
  }
  if (x.candidates && x.candidates.length) {
    out.push(el("p", { class: "explain-head", text: t("explain.candidates") }));
    out.push(el("ul", { class: "explain-list" }, ...x.candidates.map((c) =>
      el("li", { dataset: { verdict: c.verdict } }, el("strong", { text: agentName(c.agent_id) || c.agent_id }), " · ", phrase(c.why, c.reason)))));
  }
  const notes = (x.notes || []).map((n, i) => phrase((x.note_codes || [])[i], n));
  if (notes.length) out.push(el("ul", { class: "explain-list" }, ...notes.map((n) => el("li", { text: n }))));
  return out;
}

document.addEventListener("keydown", (ev) => {
  if (ev.key === "Escape" && state.monitored && !document.querySelector("dialog[open]")) {
    const active = document.activeElement;
    if (active && $("monitor").contains(active)) stopMonitor();
  }
});

// ---------------------------------------------------------------- connection
socket.on("welcome", async () => {
  syncClock();
  try {
    const snap = await socket.request("subscribe_queues", {});
    $("wall-notice").hidden = true;
    applySnapshot({ ...snap, ts: snap.ts || clock.now() });
  } catch (exc) {
    const notice = $("wall-notice");
    notice.hidden = false;
    notice.textContent = exc.code === "forbidden" ? t("supervisor.qa_notice") : t("supervisor.subscribe_failed", { reason: errText(exc) });
  }
  if (state.monitored) {
    const id = state.monitored.id;
    state.monitored.id = id;
    startMonitor(id);
  }
});
socket.on("resync", () => {
  // Subscriptions belong to the connection; the welcome handler renews them.
});

let bannerTimer = null;
socket.on("state", (st, detail = {}) => {
  $("conn-status").dataset.state = st;
  $("conn-text").textContent = t(`conn.${st}`);
  const banner = $("conn-banner");
  clearInterval(bannerTimer);
  if (st === "offline") {
    banner.hidden = false;
    const tickBanner = () => {
      $("conn-banner-text").textContent = t("conn.lost_retry_in", { s: Math.max(0, Math.ceil((detail.retryAt - Date.now()) / 1000)) });
    };
    tickBanner();
    bannerTimer = setInterval(tickBanner, 500);
  } else if (st === "reconnecting") {
    banner.hidden = false;
    $("conn-banner-text").textContent = t("conn.reconnecting_long");
  } else if (st === "open") {
    banner.hidden = true;
  }
});
$("conn-retry").addEventListener("click", () => socket.retryNow());
socket.on("fatal", (code) => {
  auth.clear();
  $("conn-banner").hidden = false;
  $("conn-banner-text").textContent = t("conn.signed_out");
  $("conn-retry").hidden = true;
  if (code === 4010 || code === 4001) setTimeout(() => location.replace("/"), 2500);
});

async function syncClock() {
  const t0 = Date.now();
  try {
    const r = await socket.request("ping", {}, { timeoutMs: 5000 });
    if (r && typeof r.ts === "number") clock.offsetMs = r.ts * 1000 - (t0 + Date.now()) / 2;
  } catch {
    clock.offsetMs = 0;
  }
}

// A sample every 10 s keeps the chart moving between queue changes.
let sampleCounter = 0;
everySecond(() => {
  tick();
  sampleCounter += 1;
  if (sampleCounter % 10 === 0 && state.updatedAt) {
    const waiting = state.queues.reduce((n, q) => n + (q.waiting || 0), 0);
    const sls = state.queues.map((q) => slPercent(q.service_level)).filter((v) => v !== null);
    chart.add(clock.now(), waiting, sls.length ? sls.reduce((a, b) => a + b, 0) / sls.length : null);
  } else if (sampleCounter % 10 === 5) {
    chart.render();
  }
});

api("/api/skills").then((r) => {
  state.skills = (r && r.skills) || [];
  renderQueues();
  renderLive();
}).catch(() => {});

renderQueues();
renderAgents();
renderLive();
renderMonitorHead();
chart.render();
$("conn-status").dataset.state = "connecting";
$("conn-text").textContent = t("conn.connecting");
socket.connect();
