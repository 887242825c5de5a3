// The admin page's bot knowledge base (客服机器人): answers listed with their usage (how often given,
// how often followed by a hand-over; sortable), created, edited and deleted (/api/bot/answers); a
// "try a question" box showing what the bot would answer or offer ("did you mean") and why
// (/api/bot/try); and an import from CSV/XLSX: preview first, then import (/api/bot/import), with a
// template to download. A broken row is refused naming its row and column; nothing is imported.
import { t } from "kefu/i18n";
import { api, auth, ApiError } from "kefu/api";
import { el, clear, toast, showFormError } from "kefu/ui";

const FIELDS = ["question", "similar", "keywords", "answer", "skills"];
const LISTS = ["similar", "keywords", "skills"]; // one per line in the form

function field(id, labelKey, control, hintKey) {
  return el("div", { class: "field" }, el("label", { for: id, text: t(labelKey) }), control,
    hintKey ? el("p", { class: "hint", id: `${id}-hint`, text: t(hintKey) }) : null);
}

function errorField(exc) {
  const name = (exc && (exc.field || String(exc.message || "").split(":")[0])) || "";
  return FIELDS.includes(name) ? name : null;
}

// The file itself as the body (api() sends JSON only); errors as api() raises them.
async function upload(path, file) {
  const fmt = /\.xlsx$/i.test(file.name) ? "xlsx" : "csv";
  const res = await fetch(`${path}${path.includes("?") ? "&" : "?"}format=${fmt}`, {
    method: "POST", body: file, credentials: "same-origin", cache: "no-store",
    headers: { Authorization: `Bearer ${auth.token}`, Accept: "application/json" },
  });
  const data = await res.json().catch(() => null);
  if (!res.ok) {
    const err = (data && data.error) || {};
    throw new ApiError(res.status, err.code || String(res.status), err.message || res.statusText, { field: err.field });
  }
  return data;
}

async function download(fmt) {
  const res = await fetch(`/api/bot/import/template?format=${fmt}`, {
    headers: { Authorization: `Bearer ${auth.token}` }, credentials: "same-origin", cache: "no-store",
  });
  if (!res.ok) throw new ApiError(res.status, String(res.status), res.statusText);
  const url = URL.createObjectURL(await res.blob());
  const link = el("a", { href: url, download: `bot-answers-template.${fmt}`, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

const SORTS = {
  question: (a, b) => a.question.localeCompare(b.question, "zh-CN"),
  used: (a, b, c) => (c[b.id]?.used || 0) - (c[a.id]?.used || 0),
  handed_over: (a, b, c) => (c[b.id]?.handed_over || 0) - (c[a.id]?.handed_over || 0),
};

export async function render(root) {
  let answers = [];
  let counts = {};
  let sortBy = null; // null: the knowledge base's own order
  let editing = null;
  const inputs = {
    question: el("input", { id: "bot-f-question", type: "text", autocomplete: "off" }),
    similar: el("textarea", { id: "bot-f-similar", rows: "3", "aria-describedby": "bot-f-similar-hint" }),
    keywords: el("input", { id: "bot-f-keywords", type: "text", autocomplete: "off", "aria-describedby": "bot-f-keywords-hint" }),
    answer: el("textarea", { id: "bot-f-answer", rows: "3" }),
    skills: el("input", { id: "bot-f-skills", type: "text", autocomplete: "off", "aria-describedby": "bot-f-skills-hint" }),
  };
  const formTitle = el("h2", { class: "section-title", id: "bot-form-title" });
  const submit = el("button", { type: "submit", class: "btn btn-primary", id: "bot-f-submit", text: t("admin.save") });
  const cancel = el("button", { type: "button", class: "btn", id: "bot-f-cancel", text: t("common.cancel") });
  const form = el("form", { class: "card", id: "bot-form", novalidate: true, "aria-labelledby": "bot-form-title" },
    formTitle,
    field("bot-f-question", "bot.question", inputs.question),
    field("bot-f-similar", "bot.similar", inputs.similar, "bot.similar_hint"),
    field("bot-f-keywords", "bot.keywords", inputs.keywords, "bot.list_hint"),
    field("bot-f-answer", "bot.answer", inputs.answer),
    field("bot-f-skills", "bot.skills", inputs.skills, "bot.skills_hint"),
    el("p", { class: "form-error", id: "bot-f-error", role: "alert", hidden: true }),
    el("div", { class: "admin-actions" }, submit, cancel));
  const table = el("tbody");
  const empty = el("p", { class: "muted", id: "bot-empty", hidden: true, text: t("bot.none") });
  const question = el("input", { id: "bot-try-question", type: "text", autocomplete: "off" });
  const result = el("div", { id: "bot-try-result", "aria-live": "polite" });
  const tryForm = el("form", { class: "card", id: "bot-try", "aria-labelledby": "bot-try-title" },
    el("h2", { class: "section-title", id: "bot-try-title", text: t("bot.try_title") }),
    field("bot-try-question", "bot.try_question", question),
    el("div", { class: "admin-actions" }, el("button", { type: "submit", class: "btn", id: "bot-try-submit", text: t("bot.try") })),
    result);

  function clearInvalid() {
    for (const node of Object.values(inputs)) node.removeAttribute("aria-invalid");
    showFormError("bot-f-error", "");
  }

  function startEdit(answer) {
    editing = answer;
    clearInvalid();
    formTitle.textContent = answer ? t("bot.edit_title") : t("bot.new_title");
    for (const name of FIELDS) {
      const value = answer ? answer[name] : "";
      inputs[name].value = LISTS.includes(name) ? (value || []).join(name === "similar" ? "\n" : ", ") : value || "";
    }
    cancel.hidden = !answer;
    if (answer) inputs.question.focus();
  }

  function renderTable() {
    clear(table);
    empty.hidden = answers.length > 0;
    const rows = sortBy ? [...answers].sort((a, b) => SORTS[sortBy](a, b, counts)) : answers;
    for (const [key, button] of Object.entries(sortButtons)) {
      button.closest("th").setAttribute("aria-sort", key === sortBy ? (key === "question" ? "ascending" : "descending") : "none");
    }
    for (const a of rows) {
      const used = counts[a.id]?.used || 0;
      const handed = counts[a.id]?.handed_over || 0;
      table.append(el("tr", { dataset: { id: a.id } },
        el("th", { scope: "row", text: a.question }),
        el("td", { text: (a.similar || []).join(" / ") }),
        el("td", { text: (a.keywords || []).join(", ") }),
        el("td", { text: a.answer }),
        el("td", { text: (a.skills || []).join(", ") || t("bot.all_skills") }),
        el("td", { class: "num bot-used", text: String(used) }),
        el("td", { class: "num bot-handed", text: used ? t("bot.handed_rate", { count: handed, pct: Math.round((handed / used) * 100) }) : String(handed) }),
        el("td", { class: "actions" },
          el("button", { type: "button", class: "btn btn-sm", text: t("admin.edit"), "aria-label": t("bot.edit_named", { question: a.question }), onclick: () => startEdit(a) }),
          " ",
          el("button", { type: "button", class: "btn btn-sm btn-danger-ghost", text: t("admin.delete"), "aria-label": t("bot.delete_named", { question: a.question }), onclick: () => remove(a) }))));
    }
  }

  async function load() {
    const data = await api("/api/bot/answers");
    answers = data.answers || [];
    counts = data.counts || {};
    renderTable();
  }

  async function remove(answer) {
    if (!window.confirm(t("bot.confirm_delete", { question: answer.question }))) return;
    try {
      await api(`/api/bot/answers/${encodeURIComponent(answer.id)}`, { method: "DELETE" });
      toast(t("bot.deleted"), "success");
      if (editing && editing.id === answer.id) startEdit(null);
      await load();
    } catch (exc) {
      toast(String(exc.message || exc), "error");
    }
  }

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearInvalid();
    const body = {};
    for (const name of FIELDS) {
      const value = inputs[name].value;
      body[name] = LISTS.includes(name) ? value.split(name === "similar" ? /\n/ : /[,，\n]/).map((s) => s.trim()).filter(Boolean) : value;
    }
    submit.disabled = true;
    try {
      if (editing) await api(`/api/bot/answers/${encodeURIComponent(editing.id)}`, { method: "PATCH", body });
      else await api("/api/bot/answers", { method: "POST", body });
      toast(t("bot.saved"), "success");
      startEdit(null);
      await load();
    } catch (exc) {
      const name = errorField(exc);
      if (name) {
        inputs[name].setAttribute("aria-invalid", "true");
        inputs[name].focus();
      }
      showFormError("bot-f-error", name ? t("bot.bad_field", { field: t(`bot.${name}`), message: exc.message }) : String(exc.message || exc));
    } finally {
      submit.disabled = false;
    }
  });
  cancel.addEventListener("click", () => startEdit(null));

  tryForm.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clear(result);
    try {
      const found = await api("/api/bot/try", { method: "POST", body: { question: question.value } });
      const offers = !found.answered && found.choices && found.choices.length;
      result.append(el("p", { id: "bot-try-verdict", text: found.answered ? t("bot.would_answer", { answer: found.answer.answer })
        : offers ? t("bot.would_offer", { choices: found.choices.map((c, i) => `${i + 1}. ${c.question}`).join("  ") }) : t("bot.would_not_answer") }));
      const list = el("ol", { id: "bot-try-candidates" });
      for (const c of found.candidates) list.append(el("li", { text: `${c.question} — ${c.explanation}` }));
      if (found.candidates.length) result.append(list);
    } catch (exc) {
      result.append(el("p", { class: "form-error", role: "alert", text: String(exc.message || exc) }));
    }
  });

  // -- import ------------------------------------------------------------------------------------
  const fileInput = el("input", { id: "bot-import-file", type: "file", accept: ".csv,.xlsx,text/csv", "aria-describedby": "bot-import-hint" });
  const previewButton = el("button", { type: "submit", class: "btn", id: "bot-import-preview", text: t("bot.import_preview") });
  const importButton = el("button", { type: "button", class: "btn btn-primary", id: "bot-import-go", text: t("bot.import_go"), hidden: true });
  const importError = el("p", { class: "form-error", id: "bot-import-error", role: "alert", hidden: true });
  const importResult = el("div", { id: "bot-import-result", "aria-live": "polite" });
  const importForm = el("form", { class: "card", id: "bot-import", "aria-labelledby": "bot-import-title", novalidate: true },
    el("h2", { class: "section-title", id: "bot-import-title", text: t("bot.import_title") }),
    field("bot-import-file", "bot.import_file", fileInput, "bot.import_hint"),
    el("div", { class: "admin-actions" }, previewButton, importButton,
      el("button", { type: "button", class: "btn btn-ghost", id: "bot-template-csv", text: t("bot.template_csv"), onclick: () => download("csv").catch((e) => toast(String(e.message || e), "error")) }),
      el("button", { type: "button", class: "btn btn-ghost", id: "bot-template-xlsx", text: t("bot.template_xlsx"), onclick: () => download("xlsx").catch((e) => toast(String(e.message || e), "error")) })),
    importError, importResult);
  let previewed = null; // the file whose preview is shown: "import" sends that one

  function importFailed(exc) {
    importError.textContent = t("bot.import_refused", { message: String(exc.message || exc) });
    importError.hidden = false;
    fileInput.setAttribute("aria-invalid", "true");
  }

  function resetImport() {
    importError.hidden = true;
    fileInput.removeAttribute("aria-invalid");
    clear(importResult);
    importButton.hidden = true;
    previewed = null;
  }

  fileInput.addEventListener("change", resetImport);
  importForm.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    resetImport();
    const file = fileInput.files && fileInput.files[0];
    if (!file) {
      importFailed(new Error(t("bot.import_no_file")));
      return;
    }
    previewButton.disabled = true;
    try {
      const preview = await upload("/api/bot/import?dry_run=1", file);
      previewed = file;
      importResult.append(el("p", { id: "bot-import-summary", text: t("bot.import_summary", { rows: preview.rows, added: preview.added.length, replaced: preview.replaced.length }) }));
      const list = el("tbody");
      for (const a of preview.answers.slice(0, 50)) {
        list.append(el("tr", {}, el("th", { scope: "row", text: a.question }), el("td", { text: a.answer }),
          el("td", { text: preview.replaced.includes(a.question) ? t("bot.import_replaces") : t("bot.import_adds") })));
      }
      importResult.append(el("div", { class: "table-wrap" }, el("table", { class: "table", id: "bot-import-table" },
        el("caption", { class: "sr-only", text: t("bot.import_title") }),
        el("thead", {}, el("tr", {}, ...["bot.question", "bot.answer", "bot.import_effect"].map((k) => el("th", { scope: "col", text: t(k) })))),
        list)));
      importButton.hidden = false;
    } catch (exc) {
      importFailed(exc);
    } finally {
      previewButton.disabled = false;
    }
  });
  importButton.addEventListener("click", async () => {
    if (!previewed) return;
    importButton.disabled = true;
    try {
      const done = await upload("/api/bot/import", previewed);
      toast(t("bot.imported", { added: done.added.length, replaced: done.replaced.length }), "success");
      fileInput.value = "";
      resetImport();
      await load();
    } catch (exc) {
      importFailed(exc);
    } finally {
      importButton.disabled = false;
    }
  });

  const sortButtons = {};
  function sortable(key, labelKey) {
    const button = el("button", { type: "button", class: "btn-link sort", id: `bot-sort-${key}`, text: t(labelKey),
      onclick: () => { sortBy = sortBy === key ? null : key; renderTable(); } });
    sortButtons[key] = button;
    return el("th", { scope: "col", class: key === "question" ? null : "num", "aria-sort": "none" }, button);
  }

  root.append(
    el("p", { class: "muted", text: t("bot.intro") }),
    form,
    tryForm,
    importForm,
    el("section", { class: "card", "aria-labelledby": "bot-list-title" },
      el("h2", { class: "section-title", id: "bot-list-title", text: t("bot.list_title") }),
      el("div", { class: "table-wrap" },
        el("table", { class: "table", id: "bot-table" },
          el("thead", {}, el("tr", {},
            sortable("question", "bot.question"),
            ...["bot.similar", "bot.keywords", "bot.answer", "bot.skills"].map((k) => el("th", { scope: "col", text: t(k) })),
            sortable("used", "bot.used"), sortable("handed_over", "bot.handed_over"),
            el("th", { scope: "col", class: "actions" }, el("span", { class: "sr-only", text: t("bot.actions") })))),
          table)),
      empty));
  startEdit(null);
  await load();
}
