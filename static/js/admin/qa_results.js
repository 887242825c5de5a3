// QA results (质检结果): the mean total per agent and per team over a date range (GET
// /api/qa/averages; a supervisor sees their teams'), and the reviews, disputes first for QA
// (GET /api/qa/reviews?status=…), which QA resolves with a note.
import { api } from "kefu/api";
import { t } from "kefu/i18n";
import { el, clear, toast } from "kefu/ui";
import { reviewCard, fmtTotal } from "kefu/qa_view";

function dayStart(value) {
  const [y, m, d] = value.split("-").map(Number);
  return new Date(y, m - 1, d).getTime() / 1000;
}

export async function render(root, { user }) {
  const roles = user.roles || [];
  const resolves = roles.includes("qa") || roles.includes("admin");
  const from = el("input", { id: "qar-from", type: "date" });
  const to = el("input", { id: "qar-to", type: "date" });
  const status = el("select", { id: "qar-status" }, el("option", { value: "", text: t("admin.tr.any") }),
    ["new", "acknowledged", "disputed", "resolved"].map((s) => el("option", { value: s, text: t(`qa.status.${s}`) })));
  status.value = resolves ? "disputed" : "";
  const form = el("form", { class: "card admin-form", id: "qar-filters", role: "search", "aria-label": t("qa.results.filters") },
    el("div", { class: "field" }, el("label", { for: "qar-from", text: t("admin.tr.from") }), from),
    el("div", { class: "field" }, el("label", { for: "qar-to", text: t("admin.tr.to") }), to),
    el("div", { class: "field" }, el("label", { for: "qar-status", text: t("qa.results.status") }), status),
    el("div", { class: "admin-actions" }, el("button", { type: "submit", class: "btn btn-primary", text: t("admin.tr.search") })));
  const table = (id, kind) => {
    const body = el("tbody");
    const head = `${id}-title`;
    return [body, el("div", { class: "card table-wrap" }, el("h2", { class: "section-title", id: head, text: t(`qa.results.by_${kind}`) }),
      el("table", { class: "table", id, "aria-labelledby": head },
      el("thead", {}, el("tr", {}, ["name", "reviews", "average", "passed"].map((c) => el("th", { scope: "col", text: t(`qa.results.col_${c}`) })))), body))];
  };
  const [agentsBody, agentsCard] = table("qa-by-agent", "agent");
  const [teamsBody, teamsCard] = table("qa-by-team", "team");
  const overall = el("p", { class: "small", id: "qa-overall", role: "status" });
  const reviews = el("div", { id: "qa-review-list", class: "qa-review-list" });
  root.append(el("p", { class: "muted", text: t("qa.results.intro") }), form, overall,
    el("div", { class: "qa-averages" }, agentsCard, teamsCard),
    el("h2", { class: "section-title", text: t("qa.results.reviews") }), reviews);

  const range = () => {
    const q = new URLSearchParams();
    if (from.value) q.set("since", String(dayStart(from.value)));
    if (to.value) q.set("until", String(dayStart(to.value) + 86400));
    return q;
  };
  const fill = (body, rows) => {
    clear(body);
    for (const r of rows) {
      body.append(el("tr", {}, el("th", { scope: "row", text: r.name }), el("td", { text: String(r.reviews) }),
        el("td", { text: fmtTotal(r.average) }), el("td", { text: r.reviews ? `${r.passed} / ${r.reviews}` : "—" })));
    }
    if (!rows.length) body.append(el("tr", {}, el("td", { colspan: "4", class: "muted", text: t("qa.results.none") })));
  };

  async function resolve(review, note) {
    try {
      await api(`/api/qa/reviews/${encodeURIComponent(review.id)}/resolve`, { method: "POST", body: { note } });
      toast(t("qa.results.resolved"), "success");
      await load();
    } catch (exc) {
      toast(t("admin.save_failed", { reason: exc.message || String(exc) }), "error");
    }
  }

  async function load() {
    const q = range();
    const avg = await api(`/api/qa/averages?${q}`);
    fill(agentsBody, avg.agents || []);
    fill(teamsBody, avg.teams || []);
    overall.textContent = t("qa.results.overall", { n: avg.overall.reviews, average: fmtTotal(avg.overall.average) });
    if (status.value) q.set("status", status.value);
    q.set("limit", "50");
    const data = await api(`/api/qa/reviews?${q}`);
    clear(reviews);
    for (const r of data.reviews || []) {
      const actions = [el("a", { class: "btn btn-sm", href: `#/qa?session=${encodeURIComponent(r.session_id)}`, text: t("qa.results.open") })];
      if (resolves && r.status === "disputed") {
        const id = `resolve-${r.id}`;
        const note = el("input", { id, autocomplete: "off", maxlength: "2000" });
        actions.push(el("label", { for: id, class: "small", text: t("qa.results.resolution") }), note,
          el("button", { type: "button", class: "btn btn-primary btn-sm", text: t("qa.results.resolve"), onclick: () => resolve(r, note.value) }));
      }
      reviews.append(reviewCard(r, { actions }));
    }
    if (!(data.reviews || []).length) reviews.append(el("p", { class: "muted", text: t("qa.results.no_reviews") }));
  }
  form.addEventListener("submit", (ev) => { ev.preventDefault(); load(); });
  await load();
}
