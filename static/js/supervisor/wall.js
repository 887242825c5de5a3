// The wall: queues (waiting, longest wait, service level, agents by state), the agents' table
// (state, set by a supervisor, load, their sessions) and the live sessions, all from the server's
// picture (subscribe_queues, then event queues), plus the 30-minute chart's samples.
import { t } from "kefu/i18n";
import {
  el, clear, clock, fmtDuration, fmtAgo, toast, customerName, avatar, customerAvatar, customerDetail, skillLabel, byId as $,
} from "kefu/ui";
import { failureText } from "kefu/messages";

// The server repaints the wall every refresh_secs even when nothing changes: three repaints
// missed means the picture is stale (events stopped), not that the desk is quiet.
const STALE_AFTER_REFRESHES = 3;
// Below this service level a queue's figure shows as bad.
const SERVICE_LEVEL_TARGET = 80;
const STATUS_ORDER = { busy: 0, available: 1, wrapup: 2, away: 3, offline: 4 };

function slPercent(v) {
  if (v === null || v === undefined || Number.isNaN(Number(v))) return null;
  const n = Number(v);
  return n <= 1 ? n * 100 : n;
}

const statusRank = (s) => STATUS_ORDER[s] ?? 5;

// A window's satisfaction (满意度) as "4.5 (12)"; "—" with no score in it.
function csatFigure(fig) {
  if (!fig || !fig.count) return "—";
  return t("queues.csat_figure", { avg: Number(fig.avg).toFixed(1), n: fig.count });
}

function sessionDuration(s) {
  const start = s.state === "assigned" ? s.accepted_at || s.queued_at : s.queued_at || s.created_at;
  return start ? clock.now() - start : 0;
}

export function createWall(sup) {
  const { state, socket, canAct, chart } = sup;

  /** Customers waiting over all queues and their mean service level (null: none reported). */
  function totals() {
    const waiting = state.queues.reduce((n, q) => n + (q.waiting || 0), 0);
    const sls = state.queues.map((q) => slPercent(q.service_level)).filter((v) => v !== null);
    return { waiting, sl: sls.length ? sls.reduce((a, b) => a + b, 0) / sls.length : null };
  }

  function applySnapshot(data) {
    if (!data) return;
    if (data.queues) state.queues = data.queues;
    if (data.agents) state.agents = data.agents;
    if (data.sessions) state.sessions = data.sessions;
    if (data.csat) state.csat = data.csat;
    if (data.alerts && sup.alerts) sup.alerts.replace(data.alerts);
    state.updatedAt = data.ts || clock.now();
    state.receivedAt = Date.now();
    if (Number(data.refresh_secs) > 0) state.refreshSecs = Number(data.refresh_secs);
    const { waiting, sl } = totals();
    chart.add(state.updatedAt, waiting, sl);
    renderQueues();
    renderAgents();
    renderLive();
    if (state.monitored) {
      const s = state.sessions.find((x) => String(x.id) === state.monitored.id);
      if (s) state.monitored.session = { ...state.monitored.session, ...s };
      sup.monitor.renderHead();
    }
  }

  // The queue's leave-messages (留言): waiting and with agents, past due marked, the oldest's age;
  // the list page is a link away. Nothing when the queue has none.
  function leaveMessages(q) {
    const lm = q.leave_messages;
    if (!lm || !(lm.open || lm.assigned)) return null;
    return el("p", { class: "wall-lm", dataset: { leaveMessages: q.skill } },
      el("strong", { text: t("wall.lm.title") }),
      el("span", { text: t("wall.lm.counts", { open: lm.open || 0, assigned: lm.assigned || 0 }) }),
      lm.breached ? el("span", { class: "wall-lm-breached", role: "status", text: `⚠ ${t("wall.lm.breached", { n: lm.breached })}` }) : null,
      lm.oldest_s ? el("span", { class: "muted", text: t("wall.lm.oldest", { age: fmtDuration(lm.oldest_s) }) }) : null,
      el("a", { href: `/admin#/leave_messages?status=open&skill=${encodeURIComponent(q.skill)}`, text: t("wall.lm.list") }));
  }

  function renderQueues() {
    const list = $("queues");
    clear(list);
    let total = 0;
    for (const q of state.queues) {
      total += q.waiting || 0;
      const a = q.agents || {};
      const sl = slPercent(q.service_level);
      const csat = (state.csat || {})[q.skill] || {};
      list.append(
        el("li", { class: `queue-card${q.waiting ? " has-waiting" : ""}`, dataset: { skill: q.skill } },
          el("p", { class: "queue-name", text: skillLabel(state.skills, q.skill) }),
          el("p", { class: "queue-waiting" },
            el("span", { class: "queue-number", text: String(q.waiting || 0), dataset: { testid: `waiting-${q.skill}` } }),
            el("span", { class: "queue-unit", text: t("queues.waiting") })),
          el("dl", { class: "queue-facts" },
            el("dt", { text: t("queues.longest") }), el("dd", { text: q.waiting ? fmtDuration(q.longest_wait_s || 0) : "—", dataset: { longest: q.skill } }),
            el("dt", { text: t("queues.service_level") }), el("dd", { text: sl === null ? "—" : `${Math.round(sl)}%`, class: sl !== null && sl < SERVICE_LEVEL_TARGET ? "bad" : "" }),
            el("dt", { text: t("queues.csat_today") }), el("dd", { text: csatFigure(csat.today), dataset: { csatToday: q.skill } }),
            el("dt", { text: t("queues.csat_hour") }), el("dd", { text: csatFigure(csat.hour), dataset: { csatHour: q.skill } })),
          el("p", { class: "queue-agents" },
            el("span", { class: "pill pill-available", text: t("queues.n_available", { n: a.available || 0 }) }),
            el("span", { class: "pill pill-busy", text: t("queues.n_busy", { n: a.busy || 0 }) }),
            el("span", { class: "pill pill-away", text: t("queues.n_away", { n: a.away || 0 }) }),
            el("span", { class: "pill pill-offline", text: t("queues.n_offline", { n: a.offline || 0 }) })),
          leaveMessages(q)),
      );
    }
    if (!state.queues.length) list.append(el("li", { class: "empty", text: t("queues.empty") }));
    $("queues-total").textContent = t("queues.total", { n: total });
    renderUpdatedAt();
  }

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

  function statusCell(a, name) {
    if (canAct && a.status !== "offline" && a.status !== "disconnected") {
      const sel = el("select", { class: "status-select", "aria-label": t("agents.set_status_for", { name }), dataset: { agentId: a.id } },
        ...["available", "away"].map((s) => el("option", { value: s, text: t(`presence.${s}`) })));
      // busy, wrap-up and any other state the engine reports is shown but cannot be chosen.
      if (!["available", "away"].includes(a.status)) sel.prepend(el("option", { value: a.status, text: t(`presence.${a.status}`), disabled: true }));
      sel.value = a.status;
      sel.addEventListener("change", () => setAgentPresence(a, sel.value, sel));
      return el("span", { class: `status status-${a.status}` }, el("span", { class: "dot", "aria-hidden": "true" }), sel);
    }
    return el("span", { class: `status status-${a.status}` }, el("span", { class: "dot", "aria-hidden": "true" }), t(`presence.${a.status}`));
  }

  function agentRow(a) {
    const name = a.name || a.username || String(a.id);
    const cap = a.capacity || a.max_sessions || 0;
    const load = a.load || 0;
    const meter = el("span", { class: "meter", role: "meter", "aria-valuemin": "0", "aria-valuemax": String(cap || 1), "aria-valuenow": String(load), "aria-label": t("agents.load_of", { load, cap }) },
      el("span", { class: "meter-fill" }));
    meter.firstChild.style.width = `${cap ? Math.min(100, (100 * load) / cap) : 0}%`;
    const sess = agentSessions(a);
    const sessCell = el("td", { class: "agent-sessions" });
    for (const s of sess) {
      const label = state.profiles.nameOf(s.customer, s.openid) || String(s.id);
      const b = el("button", { type: "button", class: "chip chip-link", text: label, title: customerDetail(state.profiles.of(s.customer, s.openid)), "aria-label": t("live.monitor_named", { name: label }) });
      b.addEventListener("click", () => sup.monitor.start(String(s.id)));
      sessCell.append(b, " ");
    }
    if (!sess.length) sessCell.append(el("span", { class: "muted", text: "—" }));
    return el("tr", { dataset: { agentId: a.id, status: a.status } },
      el("th", { scope: "row" }, el("span", { class: "agent-cell" }, avatar(name, a.id), el("span", { text: name }))),
      el("td", {}, statusCell(a, name)),
      el("td", { class: "mono", dataset: { since: a.since || "" } }, a.since ? fmtDuration(clock.now() - a.since) : "—"),
      el("td", {}, el("span", { class: "load" }, meter, el("span", { class: "mono small", text: `${load}/${cap}` }))),
      sessCell);
  }

  function renderAgents() {
    const body = $("agents");
    clear(body);
    const counts = { available: 0, busy: 0, wrapup: 0, away: 0, offline: 0 };
    const sorted = [...state.agents].sort((a, b) => statusRank(a.status) - statusRank(b.status) || String(a.name).localeCompare(String(b.name)));
    for (const a of sorted) {
      counts[a.status] = (counts[a.status] || 0) + 1;
      body.append(agentRow(a));
    }
    if (!state.agents.length) body.append(el("tr", {}, el("td", { colspan: "5", class: "empty", text: t("agents.empty") })));
    $("agents-summary").textContent = t("agents.summary", counts);
  }

  async function setAgentPresence(agent, status, sel) {
    sel.disabled = true;
    try {
      await socket.request("set_presence", { agent_id: agent.id, status });
      toast(t("agents.presence_set", { name: agent.name || agent.username, status: t(`presence.${status}`) }), "success", { timeoutMs: 3000 });
    } catch (exc) {
      sel.value = agent.status;
      toast(t("agents.presence_failed", { reason: failureText(exc) }), "error");
    } finally {
      sel.disabled = false;
    }
  }

  // A waiting session moves to another skill's queue (move_session); the wall repaints with it.
  function moveSelect(s, name) {
    const others = (state.skills || []).filter((k) => k.name !== s.skill);
    if (!others.length) return null;
    const sel = el("select", { class: "move-skill", "aria-label": t("live.move_named", { name }), dataset: { moveSession: String(s.id) } },
      el("option", { value: "", text: t("live.move_to") }), ...others.map((k) => el("option", { value: k.name, text: skillLabel(state.skills, k.name) })));
    sel.addEventListener("change", async () => {
      const to = sel.value;
      if (!to) return;
      sel.disabled = true;
      try {
        await socket.request("move_session", { session_id: String(s.id), to_skill: to });
        toast(t("live.moved", { skill: skillLabel(state.skills, to) }), "success", { timeoutMs: 3000 });
      } catch (exc) {
        sel.value = "";
        toast(t("live.move_failed", { reason: failureText(exc) }), "error");
      } finally {
        sel.disabled = false;
      }
    });
    return sel;
  }

  function renderLive() {
    const body = $("live");
    clear(body);
    const sessions = [...state.sessions].sort((a, b) => (a.state === "assigned") - (b.state === "assigned") || sessionDuration(b) - sessionDuration(a));
    for (const s of sessions) {
      const id = String(s.id);
      const who = state.profiles.of(s.customer, s.openid);
      const name = customerName(who);
      const detail = customerDetail(who);
      const watch = el("button", { type: "button", class: "btn btn-sm", text: t("live.monitor"), "aria-label": t("live.monitor_named", { name }) });
      watch.addEventListener("click", () => sup.monitor.start(id));
      const move = canAct && (s.state === "queued" || s.state === "offered") ? moveSelect(s, name) : null;
      const row = el("tr", { dataset: { sessionId: id }, class: state.monitored && state.monitored.id === id ? "is-selected" : "" },
        el("th", { scope: "row" }, el("span", { class: "agent-cell" }, customerAvatar(who),
          el("span", { class: "customer-cell", title: detail }, el("span", { text: name }),
            detail ? el("span", { class: "customer-id mono", text: detail }) : null))),
        el("td", { text: skillLabel(state.skills, s.skill) }),
        el("td", {}, el("span", { class: `state state-${s.state}`, text: s.leave_message && s.state === "diverted" ? t("wall.lm.title") : t(`state.${s.state}`) })),
        el("td", { text: sup.agentName(s.agent_id) || (s.agent_id ? String(s.agent_id) : "—") }),
        el("td", { class: "mono", dataset: { dur: id } }, fmtDuration(sessionDuration(s))),
        el("td", { class: "actions" }, watch, move ? " " : null, move));
      body.append(row);
    }
    $("live-empty").hidden = sessions.length > 0;
    $("live-summary").textContent = t("live.summary", { n: sessions.length });
  }

  // Every second: the clocks on the wall move between the server's pictures.
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

  socket.on("event:queues", (d) => applySnapshot(d));
  // A customer rated a session of an agent in my scope: a toast, and the monitor shows it.
  socket.on("event:csat", (d) => {
    const name = sup.agentName(d.agent_id) || d.agent_id || "";
    toast(d.comment ? t("csat.arrived_comment", { name, score: d.score, comment: d.comment }) : t("csat.arrived", { name, score: d.score }),
      d.score <= 2 ? "warn" : "info", { timeoutMs: 6000 });
    const m = state.monitored;
    if (m && m.id === String(d.session_id)) {
      m.session = { ...m.session, csat: { score: d.score, at: d.at, comment: d.comment, agent_id: d.agent_id } };
      sup.monitor.renderHead();
    }
  });
  socket.on("event:presence", (d) => {
    const a = state.agents.find((x) => String(x.id) === String(d.agent_id));
    if (a) {
      a.status = d.status;
      if (d.since) a.since = d.since;
      renderAgents();
    }
  });

  return { applySnapshot, totals, renderQueues, renderAgents, renderLive, tick };
}
