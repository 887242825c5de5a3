// The admin page's bot knowledge base (客服机器人): answers listed, created, edited and deleted
// (/api/bot/answers), and a "try a question" box showing what the bot would answer and why
// (/api/bot/try: the matched words, the score and the confidence).
import { t } from "kefu/i18n";
import { api } from "kefu/api";
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

export async function render(root) {
  let answers = [];
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
    for (const a of answers) {
      table.append(el("tr", { dataset: { id: a.id } },
        el("th", { scope: "row", text: a.question }),
        el("td", { text: (a.similar || []).join(" / ") }),
        el("td", { text: (a.keywords || []).join(", ") }),
        el("td", { text: a.answer }),
        el("td", { text: (a.skills || []).join(", ") || t("bot.all_skills") }),
        el("td", { class: "actions" },
          el("button", { type: "button", class: "btn btn-sm", text: t("admin.edit"), "aria-label": t("bot.edit_named", { question: a.question }), onclick: () => startEdit(a) }),
          " ",
          el("button", { type: "button", class: "btn btn-sm btn-danger-ghost", text: t("admin.delete"), "aria-label": t("bot.delete_named", { question: a.question }), onclick: () => remove(a) }))));
    }
  }

  async function load() {
    answers = (await api("/api/bot/answers")).answers || [];
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
      result.append(el("p", { id: "bot-try-verdict", text: found.answered ? t("bot.would_answer", { answer: found.answer.answer }) : t("bot.would_not_answer") }));
      const list = el("ol", { id: "bot-try-candidates" });
      for (const c of found.candidates) list.append(el("li", { text: `${c.question} — ${c.explanation}` }));
      if (found.candidates.length) result.append(list);
    } catch (exc) {
      result.append(el("p", { class: "form-error", role: "alert", text: String(exc.message || exc) }));
    }
  });

  root.append(
    el("p", { class: "muted", text: t("bot.intro") }),
    form,
    tryForm,
    el("section", { class: "card", "aria-labelledby": "bot-list-title" },
      el("h2", { class: "section-title", id: "bot-list-title", text: t("bot.list_title") }),
      el("div", { class: "table-wrap" },
        el("table", { class: "table", id: "bot-table" },
          el("thead", {}, el("tr", {},
            ...["bot.question", "bot.similar", "bot.keywords", "bot.answer", "bot.skills"].map((k) => el("th", { scope: "col", text: t(k) })),
            el("th", { scope: "col", class: "actions" }, el("span", { class: "sr-only", text: t("bot.actions") })))),
          table)),
      empty));
  startEdit(null);
  await load();
}
