// The admin console's transcripts section (会话记录): transcript search for QA and supervisors.
// Finished and live sessions found by customer, agent, skill, dates, text, CSAT and wrap-up code
// (GET /api/sessions, whose access policy decides what each role sees), a page at a time; one
// opens its transcript (GET /api/sessions/{id}) with its QA reviews, a link to score it and its
// export for a complaint file. Filters live in the address (#/transcripts?q=…) so a search can be
// bookmarked or sent on.
import { api } from "kefu/api";
import { t } from "kefu/i18n";
import { el, clear, fmtDateTime, skillLabel, toast } from "kefu/ui";
import { MessageView, Transcript } from "kefu/messages";
import { reviewCard, exportButtons } from "kefu/qa_view";
import { wrapupLabel } from "kefu/agent/close";

const PAGE = 25;
const FILTERS = ["q", "openid", "agent", "skill", "from", "to", "csat", "wrapup"];
// The CSAT filter's choices: survey scores as ranges (csat_min, csat_max).
const CSAT_RANGES = { low: [1, 2], mid: [3, 3], high: [4, 5] };

function dayStart(value) {
  const [y, m, d] = value.split("-").map(Number);
  return new Date(y, m - 1, d).getTime() / 1000; // local midnight, epoch seconds
}

export async function render(root, { user } = {}) {
  const scores = ((user && user.roles) || []).some((r) => r === "qa" || r === "admin");
  const [users, catalogue] = await Promise.all([
    api("/api/users").then((d) => d.users || []).catch(() => []),
    api("/api/skills").catch(() => ({ skills: [] })),
  ]);
  const skills = catalogue.skills || [];
  const names = new Map(users.map((u) => [u.id, u.name || u.username]));
  const params = new URLSearchParams(location.hash.split("?")[1] || "");
  let offset = Math.max(0, Number(params.get("offset")) || 0);

  const input = (name, props = {}) => el("input", { id: `tr-${name}`, name, value: params.get(name) || "", autocomplete: "off", ...props });
  const agent = el("select", { id: "tr-agent", name: "agent" }, el("option", { value: "", text: t("admin.tr.any") }),
    users.filter((u) => (u.roles || []).includes("agent")).map((u) => el("option", { value: u.id, text: u.name || u.username })));
  agent.value = params.get("agent") || "";
  const skill = el("select", { id: "tr-skill", name: "skill" }, el("option", { value: "", text: t("admin.tr.any") }),
    skills.map((s) => el("option", { value: s.name, text: skillLabel(skills, s.name) })));
  skill.value = params.get("skill") || "";
  const codes = catalogue.wrapup_codes || [];
  const csat = el("select", { id: "tr-csat", name: "csat" }, el("option", { value: "", text: t("admin.tr.any") }),
    Object.keys(CSAT_RANGES).map((k) => el("option", { value: k, text: t(`admin.tr.csat_${k}`) })));
  csat.value = params.get("csat") || "";
  const wrapup = el("select", { id: "tr-wrapup", name: "wrapup" }, el("option", { value: "", text: t("admin.tr.any") }),
    codes.map((w) => (typeof w === "string" ? w : w.code || w.name || w.id)).map((code) => el("option", { value: code, text: wrapupLabel(codes, code) })));
  wrapup.value = params.get("wrapup") || "";
  const field = (name, control) => el("div", { class: "field" }, el("label", { for: `tr-${name}`, text: t(`admin.tr.${name}`) }), control);
  const form = el("form", { class: "admin-form card", id: "tr-filters", role: "search", "aria-label": t("admin.tr.filters") },
    field("q", input("q", { type: "search" })), field("openid", input("openid")), field("agent", agent), field("skill", skill),
    field("from", input("from", { type: "date" })), field("to", input("to", { type: "date" })),
    field("csat", csat), field("wrapup", wrapup),
    el("div", { class: "admin-actions" },
      el("button", { type: "submit", class: "btn btn-primary", text: t("admin.tr.search") }),
      el("button", { type: "reset", class: "btn btn-ghost", text: t("admin.tr.clear") })));

  const body = el("tbody");
  const table = el("table", { class: "table", id: "tr-table" },
    el("caption", { class: "sr-only", text: t("admin.nav.transcripts") }),
    el("thead", {}, el("tr", {}, ["time", "customer", "skill", "agent", "state", "csat", "wrapup", "open"].map((c) => el("th", { scope: "col", text: t(`admin.tr.col_${c}`) })))),
    body);
  const status = el("p", { class: "muted small", id: "tr-status", role: "status" });
  const prev = el("button", { type: "button", class: "btn btn-sm", id: "tr-prev", text: t("admin.tr.prev") });
  const next = el("button", { type: "button", class: "btn btn-sm", id: "tr-next", text: t("admin.tr.next") });
  const head = el("h2", { class: "section-title", id: "tr-transcript-title" });
  const list = el("ol", { class: "messages messages-static", id: "tr-messages", tabindex: "0", "aria-labelledby": "tr-transcript-title" });
  const tools = el("div", { class: "admin-actions", id: "tr-tools" });
  const reviews = el("div", { id: "tr-reviews" });
  const transcript = el("section", { class: "card", id: "tr-transcript", hidden: true }, head, tools, list, reviews);
  const view = new MessageView(list, { names: (id) => names.get(id) || null });
  root.append(form, el("div", { class: "card table-wrap" }, table, el("div", { class: "admin-actions" }, prev, next, status)), transcript);

  async function open(session) {
    const data = await api(`/api/sessions/${encodeURIComponent(session.id)}`);
    const who = (session.customer && session.customer.nickname) || session.openid;
    head.textContent = t("admin.tr.transcript_of", { who, when: fmtDateTime(session.created_at) });
    view.show(new Transcript(data.messages || []));
    const onError = (exc) => toast(t("admin.load_failed", { reason: exc.message || String(exc) }), "error");
    clear(tools).append(...exportButtons(session.id, onError));
    if (scores && session.state === "closed") {
      tools.append(el("a", { class: "btn btn-sm btn-primary", href: `#/qa?session=${encodeURIComponent(session.id)}`, text: t("admin.tr.score") }));
    }
    const found = await api(`/api/qa/reviews?session_id=${encodeURIComponent(session.id)}`).catch(() => ({ reviews: [] }));
    clear(reviews).append(el("h3", { class: "subhead", text: t("qa.review.past", { n: (found.reviews || []).length }) }));
    for (const r of found.reviews || []) reviews.append(reviewCard(r));
    transcript.hidden = false;
    list.focus();
  }

  async function load() {
    const query = new URLSearchParams({ limit: String(PAGE), offset: String(offset) });
    for (const name of ["q", "openid", "agent", "skill"]) if (params.get(name)) query.set(name, params.get(name));
    if (params.get("from")) query.set("since", String(dayStart(params.get("from"))));
    if (params.get("to")) query.set("until", String(dayStart(params.get("to")) + 86400));
    const range = CSAT_RANGES[params.get("csat")];
    if (range) { query.set("csat_min", String(range[0])); query.set("csat_max", String(range[1])); }
    if (params.get("wrapup")) query.set("wrapup", params.get("wrapup"));
    const data = await api(`/api/sessions?${query}`);
    const rows = data.sessions || [];
    clear(body);
    for (const s of rows) {
      const who = (s.customer && s.customer.nickname) || s.openid;
      const btn = el("button", { type: "button", class: "btn btn-sm", text: t("admin.tr.open"), "aria-label": t("admin.tr.open_named", { who }) });
      btn.addEventListener("click", () => open(s));
      body.append(el("tr", { "data-session-id": s.id },
        el("td", { text: fmtDateTime(s.created_at) }), el("td", { text: who, title: s.openid }),
        el("td", { text: skillLabel(skills, s.skill) }), el("td", { text: names.get(s.agent_id) || s.agent_id || "—" }),
        el("td", { text: t(`state.${s.state}`) }), el("td", { text: s.csat ? String(s.csat.score) : "—" }),
        el("td", { text: s.wrapup ? wrapupLabel(codes, s.wrapup) : "—" }), el("td", {}, btn)));
    }
    if (!rows.length) body.append(el("tr", {}, el("td", { colspan: "8", class: "muted", text: t("admin.tr.none") })));
    const total = typeof data.total === "number" ? data.total : offset + rows.length;
    status.textContent = t("admin.tr.showing", { from: rows.length ? offset + 1 : 0, to: offset + rows.length, total });
    prev.disabled = offset === 0;
    next.disabled = offset + rows.length >= total;
  }

  function go() {
    const out = new URLSearchParams();
    for (const name of FILTERS) if (params.get(name)) out.set(name, params.get(name));
    if (offset) out.set("offset", String(offset));
    history.replaceState(null, "", `#/transcripts${out.toString() ? `?${out}` : ""}`);
    return load();
  }
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const data = new FormData(form);
    for (const name of FILTERS) {
      const v = String(data.get(name) || "").trim();
      if (v) params.set(name, v); else params.delete(name);
    }
    offset = 0;
    go();
  });
  form.addEventListener("reset", () => {
    for (const name of FILTERS) params.delete(name);
    offset = 0;
    setTimeout(go); // after the form has cleared itself
  });
  prev.addEventListener("click", () => { offset = Math.max(0, offset - PAGE); go(); });
  next.addEventListener("click", () => { offset += PAGE; go(); });
  await load();
}
