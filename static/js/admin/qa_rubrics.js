// QA rubrics and sampling (评分表与抽检): the rubrics (criteria with a weight and a maximum score,
// weights adding up to 100, a pass mark), edited by admins over /api/qa/rubrics; a change of
// criteria or pass mark makes a new version and past reviews keep theirs. Below, the work queue's
// sampling rules (the setting qa_sampling). QA and supervisors read both.
import { api } from "kefu/api";
import { t } from "kefu/i18n";
import { el, clear, toast } from "kefu/ui";

export async function render(root, { user }) {
  const admin = (user.roles || []).includes("admin");
  let rubrics = [];
  let editing = null;

  const title = el("h2", { class: "section-title", id: "rubric-form-title" });
  const name = el("input", { id: "rubric-name", type: "text", autocomplete: "off", maxlength: "80" });
  const passMark = el("input", { id: "rubric-pass", type: "number", min: "0", max: "100", step: "any" });
  const active = el("input", { id: "rubric-active", type: "checkbox" });
  const rows = el("tbody", { id: "rubric-criteria" });
  const sum = el("p", { class: "small", id: "rubric-weight-sum", role: "status" });
  const error = el("p", { class: "form-error", id: "rubric-error", role: "alert", hidden: true });
  const form = el("form", { class: "card", id: "rubric-form", "aria-labelledby": "rubric-form-title", novalidate: true },
    title,
    el("div", { class: "admin-form" },
      el("div", { class: "field", dataset: { field: "name" } }, el("label", { for: "rubric-name", text: t("qa.rubric.name") }), name),
      el("div", { class: "field", dataset: { field: "pass_mark" } }, el("label", { for: "rubric-pass", text: t("qa.rubric.pass_mark") }), passMark),
      el("label", { class: "check" }, active, " ", t("qa.rubric.active"))),
    el("table", { class: "table qa-criteria-table" }, el("caption", { class: "sr-only", text: t("qa.rubric.criteria") }),
      el("thead", {}, el("tr", {}, ["key", "label", "weight", "max", "remove"].map((c) => el("th", { scope: "col", text: t(`qa.rubric.col_${c}`) })))), rows),
    sum, el("p", { class: "hint", text: t("qa.rubric.hint") }), error,
    el("div", { class: "admin-actions" },
      el("button", { type: "button", class: "btn btn-sm", id: "rubric-add-criterion", text: t("qa.rubric.add"), onclick: () => { addRow({}); weigh(); } }),
      el("button", { type: "submit", class: "btn btn-primary", id: "rubric-save", text: t("admin.save") }),
      el("button", { type: "button", class: "btn btn-ghost", id: "rubric-new", text: t("qa.rubric.new"), onclick: () => edit(null) })));
  for (const input of form.querySelectorAll("input")) input.disabled = !admin;
  const list = el("tbody");
  root.append(el("p", { class: "muted", text: t("qa.rubric.intro") }),
    el("div", { class: "card table-wrap" }, el("table", { class: "table", id: "rubrics-table" },
      el("caption", { class: "sr-only", text: t("admin.nav.qa_rubrics") }),
      el("thead", {}, el("tr", {}, ["name", "version", "criteria", "pass_mark", "state", "edit"].map((c) => el("th", { scope: "col", text: t(`qa.rubric.list_${c}`) })))),
      list)));
  if (admin) root.append(form);

  let n = 0;
  function addRow(c) {
    n += 1;
    const cell = (field, props) => {
      const input = el("input", { id: `crit-${n}-${field}`, name: field, type: "text", autocomplete: "off", "aria-label": t(`qa.rubric.col_${field}`), oninput: weigh, ...props });
      input.value = c[field] ?? "";
      return el("td", {}, input);
    };
    const row = el("tr", { class: "qa-criterion" }, cell("key", { maxlength: "32", size: "10" }), cell("label", { maxlength: "80" }),
      cell("weight", { type: "number", min: "0", step: "any", size: "5" }), cell("max", { type: "number", min: "0", step: "any", size: "5" }),
      el("td", {}, el("button", { type: "button", class: "btn btn-ghost btn-sm", text: t("qa.rubric.remove"), onclick: () => { row.remove(); weigh(); } })));
    rows.append(row);
  }
  function criteria() {
    return [...rows.querySelectorAll("tr")].map((r) => {
      const v = (f) => r.querySelector(`[name=${f}]`).value.trim();
      return { key: v("key"), label: v("label"), weight: v("weight") === "" ? null : Number(v("weight")), max: v("max") === "" ? null : Number(v("max")) };
    });
  }
  function weigh() {
    const total = criteria().reduce((s, c) => s + (Number(c.weight) || 0), 0);
    sum.textContent = t("qa.rubric.weight_sum", { total: Math.round(total * 1000) / 1000 });
    sum.className = Math.abs(total - 100) < 1e-6 ? "small" : "small text-danger";
  }
  function edit(rubric) {
    editing = rubric;
    error.hidden = true;
    title.textContent = rubric ? t("qa.rubric.editing", { name: rubric.name, version: rubric.version }) : t("qa.rubric.new");
    name.value = rubric ? rubric.name : "";
    passMark.value = rubric ? rubric.pass_mark : 60;
    active.checked = rubric ? rubric.active : true;
    clear(rows);
    for (const c of rubric ? rubric.criteria : [{ key: "greeting", label: t("qa.rubric.sample_greeting"), weight: 30, max: 5 },
      { key: "accuracy", label: t("qa.rubric.sample_accuracy"), weight: 50, max: 10 }, { key: "closing", label: t("qa.rubric.sample_closing"), weight: 20, max: 5 }]) addRow(c);
    weigh();
  }
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    error.hidden = true;
    for (const node of form.querySelectorAll("[aria-invalid]")) node.removeAttribute("aria-invalid");
    const body = { name: name.value, criteria: criteria(), pass_mark: passMark.value === "" ? null : Number(passMark.value) };
    if (editing) body.active = active.checked;
    try {
      const saved = editing ? await api(`/api/qa/rubrics/${encodeURIComponent(editing.id)}`, { method: "PATCH", body })
        : await api("/api/qa/rubrics", { method: "POST", body });
      toast(t("qa.rubric.saved", { name: saved.name, version: saved.version }), "success");
      await reload();
      edit(rubrics.find((r) => r.id === saved.id) || null);
    } catch (exc) {
      error.hidden = false;
      error.textContent = t("admin.save_failed", { reason: exc.message || String(exc) });
      const m = /^criteria\[(\d+)\]\.(\w+)/.exec(exc.field || "");
      const bad = m ? rows.querySelectorAll("tr")[Number(m[1])]?.querySelector(`[name=${m[2]}]`) : { name, pass_mark: passMark }[exc.field];
      if (bad) { bad.setAttribute("aria-invalid", "true"); bad.focus(); }
    }
  });

  async function reload() {
    rubrics = (await api("/api/qa/rubrics")).rubrics || [];
    clear(list);
    for (const r of rubrics) {
      list.append(el("tr", { dataset: { rubric: r.name } }, el("th", { scope: "row", text: r.name }), el("td", { text: `v${r.version}` }),
        el("td", { text: r.criteria.map((c) => `${c.label} ${c.weight}%`).join(" · ") }), el("td", { text: String(r.pass_mark) }),
        el("td", { text: t(r.active ? "qa.rubric.in_use" : "qa.rubric.retired") }),
        el("td", {}, admin ? el("button", { type: "button", class: "btn btn-ghost btn-sm", text: t("admin.edit"),
          "aria-label": t("qa.rubric.edit_named", { name: r.name }), onclick: () => { edit(r); name.focus(); } }) : "")));
    }
    if (!rubrics.length) list.append(el("tr", {}, el("td", { colspan: "6", class: "muted", text: t("qa.rubric.none") })));
  }
  await reload();
  edit(null);
  await renderSampling(root, admin);
}

async function renderSampling(root, admin) {
  const s = admin ? await api("/api/settings/qa_sampling") : (await api("/api/qa/queue?limit=1")).sampling || {};
  const percent = el("input", { id: "sampling-percent", type: "number", min: "0", max: "100", step: "any", value: String(s.percent ?? 10) });
  const csat = el("select", { id: "sampling-csat" }, el("option", { value: "", text: t("qa.sampling.csat_off") }),
    [1, 2, 3, 4].map((v) => el("option", { value: String(v), text: t("qa.sampling.csat_at_most", { n: v }) })));
  csat.value = s.csat_at_most ? String(s.csat_at_most) : "";
  const transfer = el("input", { id: "sampling-transfer", type: "checkbox", checked: !!s.every_transfer });
  const auto = el("input", { id: "sampling-auto", type: "checkbox", checked: !!s.auto_assign });
  const error = el("p", { class: "form-error", id: "sampling-error", role: "alert", hidden: true });
  const form = el("form", { class: "card", id: "sampling-form", "aria-labelledby": "sampling-title", novalidate: true },
    el("h2", { class: "section-title", id: "sampling-title", text: t("qa.sampling.title") }),
    el("p", { class: "hint", text: t("qa.sampling.hint") }),
    el("div", { class: "admin-form" },
      el("div", { class: "field" }, el("label", { for: "sampling-percent", text: t("qa.sampling.percent") }), percent),
      el("div", { class: "field" }, el("label", { for: "sampling-csat", text: t("qa.sampling.csat") }), csat),
      el("label", { class: "check" }, transfer, " ", t("qa.sampling.transfer")),
      el("label", { class: "check" }, auto, " ", t("qa.sampling.auto"))),
    error, admin ? el("div", { class: "admin-actions" }, el("button", { type: "submit", class: "btn btn-primary", id: "sampling-save", text: t("admin.save") })) : null);
  for (const input of form.querySelectorAll("input, select")) input.disabled = !admin;
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    error.hidden = true;
    try {
      await api("/api/settings/qa_sampling", { method: "PUT", body: { percent: percent.value === "" ? null : Number(percent.value),
        csat_at_most: csat.value ? Number(csat.value) : null, every_transfer: transfer.checked, auto_assign: auto.checked } });
      toast(t("qa.sampling.saved"), "success");
    } catch (exc) {
      error.hidden = false;
      error.textContent = t("admin.save_failed", { reason: exc.message || String(exc) });
    }
  });
  root.append(form);
}
