// The admin console's reports section (运营报表): the contract's report (GET /api/reports) by
// skill, agent, team, day or hour over a date range, as a table and a chart, and the agents' state
// times and occupancy (GET /api/reports/agents); both exported as CSV or XLSX. Supervisors and
// admins (a team's supervisor sees their team). Dates are days in the report's time zone
// (Asia/Shanghai unless ?tz= says otherwise); "to" is the last day shown, inclusive here (the API's
// `to` is exclusive: the day after). The filters live in the address (#/reports?from=…&by=…).
import { api, auth, ApiError } from "kefu/api";
import { t } from "kefu/i18n";
import { el, clear, skillLabel } from "kefu/ui";

const BY = ["skill", "agent", "team", "day", "hour"];
const COLUMNS = ["offered", "answered", "abandoned", "service_level", "asa_s", "aht_s", "frt_s", "transfers",
  "csat_avg", "csat_count", "qa_avg"];
const STATES = ["available", "busy", "wrapup", "away", "offline"];
const COLORS = { offered: "#8aa4c8", answered: "#2f7d5b", abandoned: "#c0492f", service_level: "#6b4fa3",
  available: "#2f7d5b", busy: "#2d6cb5", wrapup: "#c98a1b", away: "#8a8f98", offline: "#d3d7de" };
const DAY_MS = 86400000;
// The zone the server's days and hours are in (desk/reports.py's default, docs/protocol.md).
const TZ = "Asia/Shanghai";

function zoneDay(date) {
  // YYYY-MM-DD of that moment in the report's zone ("en-CA" writes dates that way).
  return new Intl.DateTimeFormat("en-CA", { timeZone: TZ, year: "numeric", month: "2-digit", day: "2-digit" }).format(date);
}

function isoDay(date) {
  const y = date.getFullYear();
  const m = String(date.getMonth() + 1).padStart(2, "0");
  const d = String(date.getDate()).padStart(2, "0");
  return `${y}-${m}-${d}`;
}

function nextDay(value) {
  const [y, m, d] = value.split("-").map(Number);
  return isoDay(new Date(y, m - 1, d + 1));
}

function fmtSecs(value) {
  if (value === null || value === undefined) return "—";
  if (value < 60) return t("reports.secs", { n: Math.round(value * 10) / 10 });
  const m = Math.floor(value / 60);
  const s = Math.round(value % 60);
  return m < 60 ? t("reports.min_sec", { m, s }) : t("reports.hour_min", { h: Math.floor(m / 60), m: m % 60 });
}

function fmtCell(name, value) {
  if (value === null || value === undefined) return "—";
  if (name === "service_level" || name === "occupancy") return `${Math.round(value * 1000) / 10}%`;
  if (name.endsWith("_s")) return fmtSecs(value);
  return String(value);
}

let chartLib = null;
async function loadChart() {
  // Chart.js 4 (static/vendor/chart.js, MIT): its UMD build sets window.Chart.
  if (!chartLib) {
    await import("kefu/vendor/chart");
    chartLib = window.Chart;
  }
  return chartLib;
}

async function download(path, name) {
  // A download with the bearer token (a plain link would carry none).
  const res = await fetch(path, { headers: { Authorization: `Bearer ${auth.token}` }, cache: "no-store" });
  if (!res.ok) {
    let body = null;
    try { body = await res.json(); } catch { /* not JSON */ }
    const err = (body && body.error) || {};
    throw new ApiError(res.status, err.code, err.message);
  }
  const url = URL.createObjectURL(await res.blob());
  const a = el("a", { href: url, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

export async function render(root, { user }) {
  const params = new URLSearchParams(location.hash.split("?")[1] || "");
  const today = zoneDay(new Date());
  const weekAgo = zoneDay(new Date(Date.now() - 6 * DAY_MS));
  const skills = await api("/api/skills").then((d) => d.skills || []).catch(() => []);

  const from = el("input", { type: "date", id: "reports-from", name: "from", value: params.get("from") || weekAgo, required: true });
  const to = el("input", { type: "date", id: "reports-to", name: "to", value: params.get("to") || today, required: true });
  const by = el("select", { id: "reports-by", name: "by" }, BY.map((b) => el("option", { value: b, text: t(`reports.by_${b}`) })));
  by.value = BY.includes(params.get("by")) ? params.get("by") : "skill";
  const field = (id, key, control) => el("div", { class: "field" }, el("label", { for: id, text: t(key) }), control);
  const exportButton = (kind, fmt) => el("button", { type: "button", class: "btn btn-sm", id: `reports-${kind}-${fmt}`,
    text: t(`reports.export_${fmt}`), dataset: { kind, fmt } });
  const form = el("form", { class: "admin-form card", id: "reports-filters", role: "search", "aria-label": t("reports.filters") },
    field("reports-from", "reports.from", from),
    field("reports-to", "reports.to", to),
    field("reports-by", "reports.by", by),
    el("div", { class: "admin-actions" }, el("button", { type: "submit", class: "btn btn-primary", id: "reports-apply", text: t("reports.apply") })));
  const error = el("p", { class: "banner banner-warn", role: "alert", id: "reports-error", hidden: true });
  const scopeNote = el("p", { class: "muted small", id: "reports-scope", hidden: true, text: t("reports.team_scope") });

  const head = el("tr");
  const body = el("tbody");
  const table = el("table", { class: "table", id: "reports-table" },
    el("caption", { class: "sr-only", text: t("reports.sessions_heading") }), el("thead", {}, head), body);
  const chartBox = el("div", { class: "reports-chart" },
    el("canvas", { id: "reports-chart", role: "img", "aria-label": t("reports.chart_label") }));
  const stateHead = el("tr", {}, el("th", { scope: "col", text: t("reports.col_agent") }),
    [...STATES.map((s) => `${s}_s`), "occupancy"].map((c) => el("th", { scope: "col", text: t(`reports.col_${c}`) })));
  const stateBody = el("tbody");
  const stateTable = el("table", { class: "table", id: "reports-agents-table" },
    el("caption", { class: "sr-only", text: t("reports.agents_heading") }), el("thead", {}, stateHead), stateBody);
  const stateChartBox = el("div", { class: "reports-chart" },
    el("canvas", { id: "reports-agents-chart", role: "img", "aria-label": t("reports.agents_chart_label") }));
  const status = el("p", { class: "muted small", id: "reports-status", role: "status" });
  const charts = {};

  function question() {
    const q = new URLSearchParams({ from: from.value, to: nextDay(to.value) });
    return q;
  }

  function remember() {
    history.replaceState(null, "", `#/reports?${new URLSearchParams({ from: from.value, to: to.value, by: by.value })}`);
  }

  function keyLabel(row) {
    if (row.key === null || row.key === undefined) {
      return by.value === "team" ? t("reports.no_team") : by.value === "agent" ? t("reports.no_agent") : "—";
    }
    if (by.value === "skill") return skillLabel(skills, row.key);
    return row.label || row.key;
  }

  function draw(id, Chart, config) {
    if (charts[id]) charts[id].destroy();
    const canvas = root.querySelector(`#${id}`);
    charts[id] = new Chart(canvas, config);
  }

  async function load() {
    error.hidden = true;
    if (!from.value || !to.value) return;
    const q = question();
    const sessionQ = new URLSearchParams(q);
    sessionQ.set("by", by.value);
    let report;
    let states;
    try {
      [report, states] = await Promise.all([api(`/api/reports?${sessionQ}`), api(`/api/reports/agents?${q}`)]);
    } catch (exc) {
      error.textContent = t("reports.failed", { reason: exc.message });
      error.hidden = false;
      return;
    }
    remember();
    clear(head).append(el("th", { scope: "col", text: t(`reports.by_${by.value}`) }),
      ...COLUMNS.map((c) => el("th", { scope: "col", class: "num", text: t(`reports.col_${c}`) })));
    clear(body);
    for (const row of report.rows) {
      body.append(el("tr", { dataset: { key: row.key ?? "" } }, el("th", { scope: "row", text: keyLabel(row) }),
        COLUMNS.map((c) => el("td", { class: "num", dataset: { col: c }, text: fmtCell(c, row[c]) }))));
    }
    if (!report.rows.length) body.append(el("tr", {}, el("td", { colspan: String(COLUMNS.length + 1), class: "muted", text: t("reports.none") })));
    clear(stateBody);
    for (const row of states.rows) {
      stateBody.append(el("tr", { dataset: { agent: row.agent_id } }, el("th", { scope: "row", text: row.name }),
        [...STATES.map((s) => `${s}_s`), "occupancy"].map((c) => el("td", { class: "num", dataset: { col: c }, text: fmtCell(c, row[c]) }))));
    }
    if (!states.rows.length) stateBody.append(el("tr", {}, el("td", { colspan: String(STATES.length + 2), class: "muted", text: t("reports.none") })));
    status.textContent = t("reports.showing", { from: from.value, to: to.value, n: report.rows.length });

    const Chart = await loadChart();
    const labels = report.rows.map(keyLabel);
    const bar = (name) => ({ type: "bar", label: t(`reports.col_${name}`), data: report.rows.map((r) => r[name]),
      backgroundColor: COLORS[name], yAxisID: "y" });
    draw("reports-chart", Chart, {
      data: { labels, datasets: [bar("offered"), bar("answered"), bar("abandoned"),
        { type: "line", label: t("reports.col_service_level"), yAxisID: "sl", borderColor: COLORS.service_level,
          backgroundColor: COLORS.service_level, data: report.rows.map((r) => (r.service_level === null ? null : r.service_level * 100)) }] },
      options: { animation: false, responsive: true, maintainAspectRatio: false,
        scales: { y: { beginAtZero: true, title: { display: true, text: t("reports.sessions_axis") } },
          sl: { position: "right", min: 0, max: 100, grid: { drawOnChartArea: false }, title: { display: true, text: "%" } } } },
    });
    // Hours, or minutes when nobody has two hours in any state (a short range, a quiet day).
    const longest = Math.max(0, ...states.rows.flatMap((r) => STATES.map((s) => r[`${s}_s`])));
    const unit = longest >= 7200 ? 3600 : 60;
    draw("reports-agents-chart", Chart, {
      type: "bar",
      data: { labels: states.rows.map((r) => r.name),
        datasets: STATES.map((s) => ({ label: t(`reports.col_${s}_s`), backgroundColor: COLORS[s],
          data: states.rows.map((r) => Math.round((r[`${s}_s`] / unit) * 100) / 100) })) },
      options: { animation: false, indexAxis: "y", responsive: true, maintainAspectRatio: false,
        scales: { x: { stacked: true, title: { display: true, text: t(unit === 3600 ? "reports.hours_axis" : "reports.minutes_axis") } },
          y: { stacked: true } } },
    });
  }

  root.addEventListener("click", async (e) => {
    const button = e.target.closest("button[data-fmt]");
    if (!button) return;
    const q = question();
    q.set("format", button.dataset.fmt);
    let path = `/api/reports/agents?${q}`;
    let name = `agents_${from.value}_${to.value}.${button.dataset.fmt}`;
    if (button.dataset.kind === "sessions") {
      q.set("by", by.value);
      path = `/api/reports?${q}`;
      name = `report_${by.value}_${from.value}_${to.value}.${button.dataset.fmt}`;
    }
    try {
      await download(path, name);
    } catch (exc) {
      error.textContent = t("reports.failed", { reason: exc.message });
      error.hidden = false;
    }
  });
  form.addEventListener("submit", (e) => { e.preventDefault(); load(); });
  by.addEventListener("change", () => load());

  const supervisorInTeam = !(user.roles || []).includes("admin") && (user.roles || []).includes("supervisor");
  scopeNote.hidden = !supervisorInTeam;
  root.append(el("p", { class: "muted", text: t("reports.intro") }), form, scopeNote, error,
    el("section", { class: "card", "aria-labelledby": "reports-sessions-heading" },
      el("div", { class: "card-head" }, el("h2", { class: "section-title", id: "reports-sessions-heading", text: t("reports.sessions_heading") }),
        el("div", { class: "admin-actions" }, exportButton("sessions", "csv"), exportButton("sessions", "xlsx"))),
      chartBox, el("div", { class: "table-wrap" }, table)),
    el("section", { class: "card", "aria-labelledby": "reports-agents-heading" },
      el("div", { class: "card-head" }, el("h2", { class: "section-title", id: "reports-agents-heading", text: t("reports.agents_heading") }),
        el("div", { class: "admin-actions" }, exportButton("agents", "csv"), exportButton("agents", "xlsx"))),
      el("p", { class: "muted small", text: t("reports.occupancy_help") }),
      stateChartBox, el("div", { class: "table-wrap" }, stateTable)),
    status);
  await load();
}
