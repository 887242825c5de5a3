// One monitored session: its transcript as it happens (the socket sends the latest messages; the
// whole of it is one REST read on request), whisper to the agent or barge in to the customer, and
// reassign it to another agent. Escape inside the panel stops monitoring.
import { t, has } from "kefu/i18n";
import { api } from "kefu/api";
import { el, clear, toast, customerName, customerAvatar, customerDetail, skillLabel, fmtDateTime, closedSentence, byId as $ } from "kefu/ui";
import { Transcript, failureText } from "kefu/messages";

// WeChat's replies per customer message when the server does not say.
const DEFAULT_REPLIES_MAX = 5;

/** A leave-message (留言) that waits for an agent: diverted, not closed. */
function leaveMessageWaits(s) {
  return !!(s && s.leave_message && s.state === "diverted");
}

export function createMonitor(sup) {
  const { state, socket, canAct, view } = sup;

  async function start(id) {
    if (state.monitored && state.monitored.id !== id) {
      const old = state.monitored.id;
      socket.request("unmonitor", { session_id: old }).catch(() => {});
    }
    const known = state.sessions.find((x) => String(x.id) === id) || { id };
    if (!state.monitored || state.monitored.id !== id) {
      state.monitored = { id, session: known, transcript: new Transcript(), closed: null, earlier: 0 };
      sup.explain.hide();
    }
    renderHead();
    view.show(state.monitored.transcript);
    sup.wall.renderLive();
    try {
      const result = await socket.request("monitor", { session_id: id });
      if (!state.monitored || state.monitored.id !== id) return;
      if (result.session) state.monitored.session = { ...state.monitored.session, ...result.session };
      // A repeat of a session this socket monitors already answers no messages: keep what we have.
      if (!result.already_monitoring) state.monitored.earlier = result.earlier || 0;
      for (const m of result.messages || []) state.monitored.transcript.upsert(m);
      view.show(state.monitored.transcript);
      renderHead();
      $("sup-input").focus();
    } catch (exc) {
      toast(t("monitor.failed", { reason: failureText(exc) }), "error");
    }
  }

  function stop() {
    if (!state.monitored) return;
    socket.request("unmonitor", { session_id: state.monitored.id }).catch(() => {});
    state.monitored = null;
    renderHead();
    sup.wall.renderLive();
  }

  async function loadEarlier() {
    const m = state.monitored;
    if (!m) return;
    try {
      const data = await api(`/api/sessions/${encodeURIComponent(m.id)}`);
      if (state.monitored !== m) return;
      for (const msg of data.messages || []) m.transcript.upsert(msg);
      m.earlier = 0;
      view.show(m.transcript);
      renderHead();
    } catch (exc) {
      toast(t("monitor.earlier_failed", { reason: failureText(exc) }), "error");
    }
  }

  // Who may take the session: anyone on line but its own agent.
  function renderReassign(s, closed) {
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
    // A waiting session can be handed to a named agent too (the engine offers it to them at once).
    // A waiting leave-message (留言, state diverted) is assigned with assign_leave_message.
    const movable = (["assigned", "queued", "offered"].includes(s.state) || leaveMessageWaits(s)) && !closed;
    $("reassign").hidden = !canAct;
    $("btn-reassign").disabled = !movable || !choices;
    sel.disabled = !movable || !choices;
  }

  function renderHead() {
    const m = state.monitored;
    $("monitor-empty").hidden = !!m;
    $("monitor-body").hidden = !m;
    if (!m) return;
    const s = m.session || {};
    const who = state.profiles.of(s.customer, s.openid);
    $("monitor-avatar").replaceChildren(customerAvatar(who));
    $("monitor-title").textContent = customerName(who);
    $("monitor-title").title = customerDetail(who) || "";
    $("monitor-meta").textContent = [customerDetail(who), skillLabel(state.skills, s.skill), s.state ? t(`state.${s.state}`) : "", s.agent_id ? t("monitor.with_agent", { name: sup.agentName(s.agent_id) || s.agent_id }) : "", s.created_at ? fmtDateTime(s.created_at) : "",
      s.csat && s.csat.score ? t("csat.score", { score: s.csat.score }) : "", s.csat && s.csat.comment ? t("csat.comment", { comment: s.csat.comment }) : ""].filter(Boolean).join(" · ");
    const closed = m.closed || s.state === "closed";
    $("monitor-closed").hidden = !closed;
    if (closed) $("monitor-closed").textContent = t("monitor.closed", { sentence: closedSentence(m.closed || s.close_reason || "closed") });
    $("monitor-earlier").hidden = !m.earlier;
    if (m.earlier) $("monitor-earlier-text").textContent = t("monitor.earlier", { shown: m.transcript.list.length, earlier: m.earlier });
    renderReassign(s, closed);
    const assigned = s.state === "assigned" && !closed;
    $("sup-composer").hidden = !canAct;
    $("btn-whisper").disabled = !assigned;
    // A waiting leave-message has no agent to whisper to, but the customer may be answered.
    $("btn-barge").disabled = !(assigned || (leaveMessageWaits(s) && !closed));
    $("sup-input").disabled = !(assigned || (leaveMessageWaits(s) && !closed));
    const b = s.budget;
    $("sup-budget").textContent = b ? t("budget.replies_left", { n: b.replies_left ?? "?", max: b.replies_max || DEFAULT_REPLIES_MAX }) + (b.can_reply === false ? ` · ${t(`budget.${b.reason || "quota_used"}`)}` : "") : "";
  }

  // kind: "whisper" (the agent only) or "barge" (the customer sees it).
  async function send(kind) {
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
      $("sup-error").textContent = t(kind === "whisper" ? "monitor.whisper_failed" : "monitor.barge_failed", { reason: failureText(exc) });
    }
  }

  async function reassign() {
    const m = state.monitored;
    const to = $("reassign-agent").value;
    if (!m || !to) return;
    try {
      // Only an offer so far: the outcome arrives as a reassign_result event when the agent answers.
      const s = m.session || {};
      await socket.request(leaveMessageWaits(s) ? "assign_leave_message" : "reassign", { session_id: m.id, to_agent: to });
      toast(t("monitor.reassign_offered", { name: sup.agentName(to) || to }), "info");
    } catch (exc) {
      toast(t("monitor.reassign_failed", { reason: failureText(exc) }), "error");
    }
  }

  function onMessage(d) {
    const m = state.monitored;
    if (!m || String(d.session_id) !== m.id || !d.message) return;
    if (m.transcript.upsert(d.message)) view.sync(d.message.id);
  }

  $("monitor-stop").addEventListener("click", stop);
  $("monitor-earlier-load").addEventListener("click", loadEarlier);
  $("sup-composer").addEventListener("submit", (ev) => {
    ev.preventDefault();
    send("whisper");
  });
  $("sup-input").addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing && ev.keyCode !== 229) {
      ev.preventDefault();
      send(ev.ctrlKey || ev.metaKey ? "barge" : "whisper");
    }
  });
  $("btn-barge").addEventListener("click", () => send("barge"));
  $("btn-reassign").addEventListener("click", reassign);
  document.addEventListener("keydown", (ev) => {
    if (ev.key === "Escape" && state.monitored && !document.querySelector("dialog[open]")) {
      const active = document.activeElement;
      if (active && $("monitor").contains(active)) stop();
    }
  });

  socket.on("event:message", onMessage);
  socket.on("event:whisper", (d) => onMessage({ ...d, message: d.message && { type: "whisper", ...d.message } }));
  socket.on("event:message_status", (d) => {
    const m = state.monitored;
    if (m && String(d.session_id) === m.id && m.transcript.setStatus(d.message_id, d.status, d.error)) view.sync(d.message_id);
  });
  socket.on("event:session_closed", (d) => {
    const m = state.monitored;
    if (m && String(d.session_id) === m.id) {
      m.closed = d.reason || "closed";
      renderHead();
    }
  });
  socket.on("event:session_updated", (d) => {
    const m = state.monitored;
    if (m && d.session && String(d.session.id) === m.id) {
      m.session = { ...m.session, ...d.session };
      renderHead();
    }
  });

  socket.on("event:reassign_result", (d) => {
    const name = sup.agentName(d.to_agent) || d.to_name || d.to_agent;
    const key = has(`reassign.${d.outcome}`) ? `reassign.${d.outcome}` : "reassign.withdrawn";
    toast(t(key, { name }), d.outcome === "accepted" ? "success" : "warn", { timeoutMs: 8000 });
    // An explanation on screen is stale now: fetch the current one.
    if (state.monitored && String(d.session_id) === state.monitored.id && sup.explain.shown()) sup.explain.show();
  });

  return { start, stop, renderHead };
}
