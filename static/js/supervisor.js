// The supervisor wall: live queues and agents (subscribe_queues), live sessions, a 30-minute
// chart, and one monitored session with whisper, barge-in, reassign and "why was it routed here".
// This entry builds the one shared state and the `sup` the panels (static/js/supervisor/) are
// given, and renews the wall's subscription at every welcome.
import { initI18n, t, has } from "kefu/i18n";
import { api } from "kefu/api";
import { KefuSocket } from "kefu/socket";
import { clock, everySecond, toast, byId as $ } from "kefu/ui";
import { MessageView, failureText } from "kefu/messages";
import { LiveChart } from "kefu/chart";
import { requireSignIn, guardConsole } from "kefu/guard";
import { showConnection, syncClock } from "kefu/connection";
import { CustomerProfiles } from "kefu/profiles";
import { createWall } from "kefu/supervisor/wall";
import { createMonitor } from "kefu/supervisor/monitor";
import { createExplanation } from "kefu/supervisor/explain";
import { createAlerts } from "kefu/supervisor/alerts";

await initI18n();
const { user, token } = requireSignIn("supervisor");
const roles = user.roles || [];
// QA reads the wall; only supervisors and admins act on it.
const canAct = roles.includes("supervisor") || roles.includes("admin");

const state = {
  queues: [],
  agents: [],
  sessions: [],
  skills: [],
  updatedAt: null, // the server's time of the last wall picture (its ts)
  receivedAt: null, // when that picture arrived here (Date.now())
  refreshSecs: 5, // how often the server repaints a quiet wall (queues' refresh_secs)
  monitored: null, // {id, session, transcript, closed, earlier}
  profiles: new CustomerProfiles(), // the latest WeChat name and avatar per openid
};

const socket = new KefuSocket({ token });
guardConsole(socket, user);
$("readonly-chip").hidden = canAct;
$("to-reports").hidden = !canAct; // reports (admin console) are for supervisors and admins
document.body.classList.toggle("readonly", !canAct);

window.kefuDebug = { socket, state };

const chart = new LiveChart($("chart"), {
  nowFn: () => clock.now(),
  fmtTime: (m) => (m ? t("chart.minutes_ago", { n: m }) : t("chart.now")),
  label: (p) => (p ? t("chart.aria", { waiting: p.waiting, sl: p.sl === null ? "—" : `${Math.round(p.sl)}%` }) : t("chart.no_data")),
});

function agentName(id) {
  if (id === undefined || id === null) return null;
  const a = state.agents.find((x) => String(x.id) === String(id));
  if (a) return a.name || a.username;
  if (String(id) === String(user.id)) return user.name || user.username;
  return null;
}

const view = new MessageView($("monitor-messages"), { names: agentName, whisperKey: "msg.whisper_seen_by_agent" });
const sup = { state, socket, user, canAct, chart, view, agentName };
sup.alerts = createAlerts(sup);
sup.wall = createWall(sup);
sup.monitor = createMonitor(sup);
sup.explain = createExplanation(sup);
showConnection(socket);

socket.on("event:customer_updated", (d) => {
  const c = d.customer;
  if (!c || !c.openid) return;
  state.profiles.remember(c);
  const m = state.monitored;
  if (state.sessions.some((s) => s.openid === c.openid)) {
    sup.wall.renderAgents();
    sup.wall.renderLive();
  }
  if (m && m.session && m.session.openid === c.openid) sup.monitor.renderHead();
});
socket.on("event:notice", (d) => toast(has(`notice.${d.code}`) ? t(`notice.${d.code}`) : d.text || d.code, d.level === "warning" ? "warn" : d.level || "info"));

// Subscriptions belong to the connection: every welcome (a resync ends in one too) renews the
// wall's and, if one is open, the monitored session's.
socket.on("welcome", async () => {
  syncClock(socket);
  try {
    const snap = await socket.request("subscribe_queues", {});
    $("wall-notice").hidden = true;
    sup.wall.applySnapshot({ ...snap, ts: snap.ts || clock.now() });
  } catch (exc) {
    const notice = $("wall-notice");
    notice.hidden = false;
    notice.textContent = exc.code === "forbidden" ? t("supervisor.qa_notice") : t("supervisor.subscribe_failed", { reason: failureText(exc) });
  }
  if (state.monitored) sup.monitor.start(state.monitored.id);
});
socket.on("resync", () => {
  // Subscriptions belong to the connection; the welcome handler renews them.
});

// A sample every 10 s keeps the chart moving between queue changes.
const SAMPLE_EVERY_SECS = 10;
let sampleCounter = 0;
everySecond(() => {
  sup.wall.tick();
  sampleCounter += 1;
  if (sampleCounter % SAMPLE_EVERY_SECS === 0 && state.updatedAt) {
    const { waiting, sl } = sup.wall.totals();
    chart.add(clock.now(), waiting, sl);
  } else if (sampleCounter % SAMPLE_EVERY_SECS === SAMPLE_EVERY_SECS / 2) {
    chart.render();
  }
});

api("/api/skills").then((r) => {
  state.skills = (r && r.skills) || [];
  sup.wall.renderQueues();
  sup.wall.renderLive();
}).catch(() => {});

sup.wall.renderQueues();
sup.wall.renderAgents();
sup.wall.renderLive();
sup.monitor.renderHead();
chart.render();
socket.connect();
