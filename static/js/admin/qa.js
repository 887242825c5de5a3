// The QA work queue and the review page (质检工作台). QA lands here: their sampled sessions
// (GET /api/qa/queue, view mine / unassigned / all), each opened as #/qa?session=<id>: the
// transcript beside the rubric, a score per criterion (0 to its maximum), a comment, submit
// (POST /api/qa/reviews) → the total and pass or fail at once. Admins and supervisors assign
// items to QA users; QA claims from the pool or hands an item back.
import { api } from "kefu/api";
import { t } from "kefu/i18n";
import { el, clear, toast, fmtDateTime, skillLabel } from "kefu/ui";
import { MessageView, Transcript } from "kefu/messages";
import { reviewCard, reasonChips, fmtTotal, verdict, exportButtons } from "kefu/qa_view";
import { wrapupLabel } from "kefu/agent/close";

const PAGE = 25;

export async function render(root, { user }) {
  const roles = user.roles || [];
  const manages = roles.includes("admin") || roles.includes("supervisor");
  const params = new URLSearchParams(location.hash.split("?")[1] || "");
  const [users, catalogue] = await Promise.all([
    api("/api/users").then((d) => d.users || []).catch(() => []), api("/api/skills").catch(() => ({ skills: [] }))]);
  const names = new Map(users.map((u) => [u.id, u.name || u.username]));
  const qaUsers = users.filter((u) => (u.roles || []).includes("qa") && !u.disabled);
  if (params.get("session")) return renderReview(root, params.get("session"), { user, names, catalogue });

  let view = params.get("view") || (manages ? "all" : "mine");
  let status = params.get("status") || "open";
  let offset = 0;
  const rules = el("p", { class: "muted small", id: "qa-rules" });
  const tabs = el("div", { class: "seg-group", role: "group", "aria-label": t("qa.queue.views") },
    ["mine", "unassigned", "all"].map((v) => el("button", { type: "button", class: "btn btn-sm", dataset: { view: v }, text: t(`qa.queue.view_${v}`),
      onclick: () => { view = v; offset = 0; load(); } })));
  const statusSel = el("select", { id: "qa-status", class: "select-inline" }, ["open", "done"].map((s) => el("option", { value: s, text: t(`qa.queue.status_${s}`) })));
  statusSel.value = status;
  statusSel.addEventListener("change", () => { status = statusSel.value; offset = 0; load(); });
  const body = el("tbody");
  const state = el("p", { class: "muted small", id: "qa-queue-status", role: "status" });
  const prev = el("button", { type: "button", class: "btn btn-sm", text: t("admin.tr.prev"), onclick: () => { offset = Math.max(0, offset - PAGE); load(); } });
  const next = el("button", { type: "button", class: "btn btn-sm", text: t("admin.tr.next"), onclick: () => { offset += PAGE; load(); } });
  root.append(el("p", { class: "muted", text: t("qa.queue.intro") }), rules,
    el("div", { class: "admin-actions" }, tabs, el("label", { for: "qa-status", class: "small", text: t("qa.queue.status") }), statusSel),
    el("div", { class: "card table-wrap" }, el("table", { class: "table", id: "qa-queue" },
      el("caption", { class: "sr-only", text: t("admin.nav.qa") }),
      el("thead", {}, el("tr", {}, ["closed", "customer", "agent", "skill", "reasons", "csat", "assignee", "open"].map((c) =>
        el("th", { scope: "col", text: t(`qa.queue.col_${c}`) })))), body),
    el("div", { class: "admin-actions" }, prev, next, state)));

  async function assign(item, to) {
    try {
      await api(`/api/qa/queue/${encodeURIComponent(item.id)}`, { method: "PATCH", body: { assignee_id: to } });
      toast(to ? t("qa.queue.assigned", { who: names.get(to) || to }) : t("qa.queue.released"), "success");
      await load();
    } catch (exc) {
      toast(t("admin.save_failed", { reason: exc.message || String(exc) }), "error");
    }
  }

  function assigneeCell(item) {
    if (manages) {
      const sel = el("select", { "aria-label": t("qa.queue.assign_named", { who: item.openid || item.session_id }) },
        el("option", { value: "", text: t("qa.queue.nobody") }), qaUsers.map((u) => el("option", { value: u.id, text: u.name || u.username })));
      sel.value = item.assignee_id || "";
      sel.addEventListener("change", () => assign(item, sel.value || null));
      return sel;
    }
    if (!item.assignee_id) return el("button", { type: "button", class: "btn btn-sm", text: t("qa.queue.claim"), onclick: () => assign(item, user.id) });
    if (item.assignee_id === user.id && item.status === "open") {
      return el("button", { type: "button", class: "btn btn-ghost btn-sm", text: t("qa.queue.release"), onclick: () => assign(item, null) });
    }
    return item.assignee_name || "—";
  }

  async function load() {
    for (const b of tabs.querySelectorAll("button")) b.setAttribute("aria-pressed", String(b.dataset.view === view));
    history.replaceState(null, "", `#/qa?view=${view}&status=${status}`);
    const data = await api(`/api/qa/queue?view=${view}&status=${status}&limit=${PAGE}&offset=${offset}`);
    const s = data.sampling || {};
    rules.textContent = t("qa.queue.rules", { percent: s.percent ?? "—",
      csat: s.csat_at_most ? t("qa.queue.rule_csat", { n: s.csat_at_most }) : "", transfer: s.every_transfer ? t("qa.queue.rule_transfer") : "" });
    clear(body);
    for (const item of data.items || []) {
      const open = el("a", { class: "btn btn-sm btn-primary", href: `#/qa?session=${encodeURIComponent(item.session_id)}`,
        text: item.status === "done" ? t("qa.queue.view") : t("qa.queue.review"), "aria-label": t("qa.queue.review_named", { who: item.openid || item.session_id }) });
      body.append(el("tr", { dataset: { sessionId: item.session_id } },
        el("td", { text: fmtDateTime(item.closed_at) }), el("td", { class: "mono small", text: item.openid || "—" }),
        el("td", { text: item.agent_name || item.agent_id || "—" }), el("td", { text: skillLabel(catalogue.skills || [], item.skill) }),
        el("td", {}, ...reasonChips(item.reasons)), el("td", { text: item.csat ? String(item.csat.score) : "—" }),
        el("td", {}, assigneeCell(item)), el("td", {}, open)));
    }
    if (!(data.items || []).length) body.append(el("tr", {}, el("td", { colspan: "8", class: "muted", text: t("qa.queue.none") })));
    const total = data.total || 0;
    state.textContent = t("admin.tr.showing", { from: total ? offset + 1 : 0, to: offset + (data.items || []).length, total });
    prev.disabled = offset === 0;
    next.disabled = offset + (data.items || []).length >= total;
  }
  await load();
}

async function renderReview(root, sessionId, { user, names, catalogue }) {
  const roles = user.roles || [];
  const scores = roles.includes("qa") || roles.includes("admin");
  const [bundle, rubricsData, reviewsData] = await Promise.all([
    api(`/api/sessions/${encodeURIComponent(sessionId)}`), api("/api/qa/rubrics").catch(() => ({ rubrics: [] })),
    api(`/api/qa/reviews?session_id=${encodeURIComponent(sessionId)}`)]);
  const session = bundle.session || {};
  const rubrics = (rubricsData.rubrics || []).filter((r) => r.active);
  const list = el("ol", { class: "messages messages-static", id: "qa-transcript", tabindex: "0", "aria-label": t("qa.review.transcript") });
  new MessageView(list, { names: (id) => names.get(id) || null }).show(new Transcript(bundle.messages || []));
  const who = (session.customer && session.customer.nickname) || session.openid;
  const facts = el("p", { class: "muted small", text: t("qa.review.facts", { who, agent: names.get(session.agent_id) || session.agent_id || "—",
    skill: skillLabel(catalogue.skills || [], session.skill), when: fmtDateTime(session.closed_at || session.created_at), wrapup: session.wrapup ? wrapupLabel(catalogue.wrapup_codes || [], session.wrapup) : "—",
    csat: session.csat ? session.csat.score : "—" }) });
  const past = el("div", { id: "qa-past-reviews" });
  const paintPast = (reviews) => {
    clear(past).append(el("h3", { class: "subhead", text: t("qa.review.past", { n: reviews.length }) }));
    for (const r of reviews) past.append(reviewCard(r));
  };
  paintPast(reviewsData.reviews || []);

  const side = el("section", { class: "card qa-rubric", "aria-labelledby": "qa-rubric-title" },
    el("h2", { class: "section-title", id: "qa-rubric-title", text: t("qa.review.score") }));
  const result = el("div", { id: "qa-result", role: "status" });
  if (!scores) side.append(el("p", { class: "muted", text: t("qa.review.read_only") }));
  else if (!rubrics.length) side.append(el("p", { class: "muted", text: t("qa.review.no_rubric") }));
  else {
    const rubricSel = el("select", { id: "qa-rubric-select" }, rubrics.map((r) => el("option", { value: r.id, text: r.name })));
    const fields = el("div", { id: "qa-criteria" });
    const comment = el("textarea", { id: "qa-comment", rows: "4", maxlength: "4000" });
    const error = el("p", { class: "form-error", id: "qa-review-error", role: "alert", hidden: true });
    const live = el("p", { class: "small", id: "qa-live-total" });
    const form = el("form", { id: "qa-review-form", novalidate: true },
      el("div", { class: "field" }, el("label", { for: "qa-rubric-select", text: t("qa.review.rubric") }), rubricSel), fields,
      el("div", { class: "field" }, el("label", { for: "qa-comment", text: t("qa.review.comment") }), comment), live, error,
      el("div", { class: "admin-actions" }, el("button", { type: "submit", class: "btn btn-primary", id: "qa-submit", text: t("qa.review.submit") })));
    const rubric = () => rubrics.find((r) => r.id === rubricSel.value);
    const values = () => Object.fromEntries([...fields.querySelectorAll("input")].map((i) => [i.name, i.value === "" ? null : Number(i.value)]));
    const estimate = () => {
      const r = rubric();
      const v = values();
      const w = r.criteria.reduce((s, c) => s + c.weight, 0);
      const ok = r.criteria.every((c) => typeof v[c.key] === "number" && !Number.isNaN(v[c.key]));
      live.textContent = ok ? t("qa.review.live", { total: fmtTotal(r.criteria.reduce((s, c) => s + (c.weight * v[c.key]) / c.max, 0) / w * 100), mark: r.pass_mark }) : "";
    };
    const paintFields = () => {
      clear(fields);
      for (const c of rubric().criteria) {
        const id = `qa-score-${c.key}`;
        fields.append(el("div", { class: "field", dataset: { field: `scores.${c.key}` } },
          el("label", { for: id, text: t("qa.review.criterion", { label: c.label, weight: c.weight, max: c.max }) }),
          el("input", { id, name: c.key, type: "number", min: "0", max: String(c.max), step: "any", required: true, inputmode: "decimal", oninput: estimate })));
      }
      estimate();
    };
    rubricSel.addEventListener("change", paintFields);
    paintFields();
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      error.hidden = true;
      for (const n of form.querySelectorAll("[aria-invalid]")) n.removeAttribute("aria-invalid");
      try {
        const made = await api("/api/qa/reviews", { method: "POST", body: { session_id: sessionId, rubric_id: rubricSel.value, scores: values(), comment: comment.value } });
        clear(result).append(el("p", { class: "qa-result" }, el("span", { class: "qa-total", text: t("qa.total", { total: fmtTotal(made.total) }) }), " ", verdict(made)));
        toast(t("qa.review.saved", { total: fmtTotal(made.total) }), "success");
        form.reset();
        estimate();
        paintPast((await api(`/api/qa/reviews?session_id=${encodeURIComponent(sessionId)}`)).reviews || []);
      } catch (exc) {
        error.hidden = false;
        error.textContent = t("admin.save_failed", { reason: exc.message || String(exc) });
        const bad = exc.field && form.querySelector(`[data-field="${CSS.escape(exc.field)}"] input`);
        if (bad) { bad.setAttribute("aria-invalid", "true"); bad.focus(); }
      }
    });
    side.append(form);
  }
  side.append(result);
  const onError = (exc) => toast(t("admin.load_failed", { reason: exc.message || String(exc) }), "error");
  root.append(el("p", {}, el("a", { href: "#/qa", class: "btn btn-ghost btn-sm", text: t("qa.review.back") })),
    el("div", { class: "qa-layout" },
      el("section", { class: "card", "aria-labelledby": "qa-transcript-title" },
        el("h2", { class: "section-title", id: "qa-transcript-title", text: t("qa.review.transcript_of", { who }) }), facts,
        el("div", { class: "admin-actions" }, ...exportButtons(sessionId, onError)), list),
      side),
    past);
}
