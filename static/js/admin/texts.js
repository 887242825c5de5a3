// Admin section "texts": the system messages sent to customers (with a live preview), the wrap-up
// codes agents close sessions with, and the keyword rules that choose a skill. Three settings,
// each saved on its own: PUT /api/settings/messages, /api/settings/wrapup, /api/settings/keyword_rules.
// A refusal names the field (e.g. "codes[1].code: ..."); the form marks that field and says why.
import { t } from "kefu/i18n";
import { api } from "kefu/api";
import { el, toast } from "kefu/ui";

const MESSAGE_KEYS = ["welcome", "queued", "assigned", "transferred", "closed", "idle_closed", "out_of_hours",
  "no_agent", "survey", "survey_thanks",
  // the bot's (issue 13, 客服机器人)
  "bot_miss", "bot_handover", "bot_no_human", "bot_choices", "bot_in_queue"];
const PLACEHOLDERS = ["position", "wait_min", "agent", "skill"];
// Placeholders only some messages have (the bot's "did you mean" list).
const KEY_PLACEHOLDERS = { bot_choices: ["choices"] };
// What the preview fills the placeholders with.
const SAMPLE = { position: 3, wait_min: 5, agent: "小王", skill: "信用卡", choices: "1. 信用卡年费怎么免\n2. 信用卡丢了怎么挂失\n0. 人工客服" };

/** The template as the customer would read it, or null when a placeholder is unknown. */
export function preview(template, key) {
  let bad = null;
  const allowed = [...PLACEHOLDERS, ...(KEY_PLACEHOLDERS[key] || [])];
  const text = template.replace(/\{\{|\}\}|\{([^{}]*)\}/g, (m, name) => {
    if (m === "{{") return "{";
    if (m === "}}") return "}";
    if (!allowed.includes(name)) bad = bad || name;
    return SAMPLE[name] === undefined ? m : String(SAMPLE[name]);
  });
  return bad === null ? text : null;
}

function fieldOf(exc) {
  const m = /^([A-Za-z_]+(?:\[\d+\])?(?:\.[A-Za-z_-]+)*):\s*(.*)$/s.exec((exc && exc.message) || "");
  return m ? { field: m[1], reason: m[2] } : { field: null, reason: (exc && exc.message) || String(exc) };
}

// One form's error area plus the marked field.
function errors(form) {
  const summary = el("p", { class: "form-error", role: "alert", hidden: true });
  form.append(summary);
  return {
    clear() {
      summary.hidden = true;
      for (const n of form.querySelectorAll("[aria-invalid]")) n.removeAttribute("aria-invalid");
      for (const n of form.querySelectorAll(".field-error")) n.remove();
    },
    show(exc, find) {
      this.clear();
      const { field, reason } = fieldOf(exc);
      const input = field ? find(field) : null;
      summary.textContent = t("admin.save_failed", { reason: field ? `${field}: ${reason}` : reason });
      summary.hidden = false;
      if (input) {
        input.setAttribute("aria-invalid", "true");
        const note = el("span", { class: "field-error small", id: `${input.id}-error`, text: reason });
        input.setAttribute("aria-describedby", `${input.id}-error`);
        input.after(note);
        input.focus();
      }
    },
  };
}

function saveButton() {
  return el("button", { type: "submit", class: "btn btn-primary", text: t("admin.save") });
}

async function saving(button, run) {
  button.disabled = true;
  button.textContent = t("admin.saving");
  try {
    await run();
  } finally {
    button.disabled = false;
    button.textContent = t("admin.save");
  }
}

// -- the messages ---------------------------------------------------------------------------------
function messagesCard(values) {
  const form = el("form", { class: "texts-form", novalidate: true, "aria-labelledby": "texts-messages-title" });
  form.append(el("p", { class: "muted small", id: "texts-placeholders",
    text: t("admin.texts.placeholders", { list: PLACEHOLDERS.map((p) => `{${p}}`).join(" ") }) }));
  const inputs = {};
  for (const key of MESSAGE_KEYS) {
    const id = `msg-${key}`;
    const area = el("textarea", { id, name: key, rows: 2, maxlength: 2000, "aria-describedby": `${id}-hint texts-placeholders` });
    area.value = values[key] || "";
    area.placeholder = t(`admin.texts.example.${key}`);
    const shown = el("output", { class: "texts-preview small", id: `${id}-preview`, for: id });
    const update = () => {
      const text = preview(area.value.trim(), key);
      shown.classList.toggle("muted", !area.value.trim());
      shown.classList.toggle("form-error", text === null);
      shown.textContent = !area.value.trim() ? t("admin.texts.sends_nothing")
        : text === null ? t("admin.texts.bad_placeholder") : t("admin.texts.preview", { text });
    };
    area.addEventListener("input", update);
    update();
    inputs[key] = area;
    form.append(el("div", { class: "field texts-field" },
      el("label", { for: id, text: t(`admin.texts.msg.${key}`) }),
      el("span", { class: "muted small", id: `${id}-hint`, text: t(`admin.texts.when.${key}`) }),
      area, shown));
  }
  const button = saveButton();
  const errs = errors(form);
  form.append(el("div", { class: "admin-actions" }, button));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    errs.clear();
    const body = Object.fromEntries(MESSAGE_KEYS.map((k) => [k, inputs[k].value]));
    saving(button, async () => {
      try {
        await api("/api/settings/messages", { method: "PUT", body });
        toast(t("admin.texts.saved_messages"), "success");
      } catch (exc) {
        errs.show(exc, (field) => inputs[field]);
      }
    });
  });
  return el("section", { class: "card texts-card", "aria-labelledby": "texts-messages-title" },
    el("h3", { class: "section-title", id: "texts-messages-title", text: t("admin.texts.messages") }), form);
}

// -- rows of inputs (wrap-up codes, keyword rules) -----------------------------------------------------
function rowsEditor({ prefix, columns, rows, blank, title, titleId }) {
  const body = el("tbody");
  let n = 0;
  function addRow(values) {
    const i = n++;
    const tr = el("tr");
    for (const col of columns) {
      const id = `${prefix}-${i}-${col.key}`;
      const input = col.options
        ? el("select", { id, "data-col": col.key }, ...col.options.map((o) => el("option", { value: o.value, text: o.text })))
        : el("input", { id, type: "text", "data-col": col.key, maxlength: col.max || 60, autocomplete: "off" });
      input.value = values[col.key] || "";
      tr.append(el("td", {}, el("label", { class: "sr-only", for: id, text: col.label }), input));
    }
    const remove = el("button", { type: "button", class: "btn btn-ghost btn-sm", text: t("admin.delete"),
      "aria-label": `${t("admin.delete")} ${i + 1}` });
    remove.addEventListener("click", () => tr.remove());
    tr.append(el("td", {}, remove));
    body.append(tr);
    return tr;
  }
  rows.forEach(addRow);
  const table = el("table", { class: "table texts-table" },
    el("caption", { class: "sr-only", text: title }),
    el("thead", {}, el("tr", {}, ...columns.map((c) => el("th", { scope: "col", text: c.label })),
      el("th", { scope: "col" }, el("span", { class: "sr-only", text: t("admin.texts.actions") })))), body);
  const add = el("button", { type: "button", class: "btn", text: t("admin.add") });
  add.addEventListener("click", () => addRow(blank()).querySelector("input,select").focus());
  return {
    table, add,
    values: () => [...body.rows].map((tr) => Object.fromEntries([...tr.querySelectorAll("[data-col]")].map((x) => [x.dataset.col, x.value]))),
    // "codes[1].label.en" -> the input of row 1, column "label.en" (or the row's first input)
    find(index, col) {
      const tr = body.rows[index];
      if (!tr) return null;
      return tr.querySelector(`[data-col="${col}"]`) || tr.querySelector("[data-col]");
    },
  };
}

function wrapupCard(setting) {
  const rows = (setting.codes || []).map((c) => {
    const label = typeof c.label === "string" ? { "zh-CN": c.label, en: "" } : c.label || {};
    return { code: c.code, "label.zh-CN": label["zh-CN"] || "", "label.en": label.en || "" };
  });
  const editor = rowsEditor({
    prefix: "wrapup", rows, title: t("admin.texts.wrapup"),
    blank: () => ({ code: "", "label.zh-CN": "", "label.en": "" }),
    columns: [{ key: "code", label: t("admin.texts.code"), max: 32 }, { key: "label.zh-CN", label: t("admin.texts.label_zh"), max: 40 },
      { key: "label.en", label: t("admin.texts.label_en"), max: 40 }],
  });
  const form = el("form", { novalidate: true, "aria-labelledby": "texts-wrapup-title" },
    el("p", { class: "muted small", text: t("admin.texts.wrapup_hint") }), editor.table);
  const button = saveButton();
  const errs = errors(form);
  form.append(el("div", { class: "admin-actions" }, editor.add, button));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    errs.clear();
    const codes = editor.values().map((r) => {
      const label = {};
      if (r["label.zh-CN"].trim()) label["zh-CN"] = r["label.zh-CN"];
      if (r["label.en"].trim()) label.en = r["label.en"];
      return { code: r.code.trim(), label };
    });
    saving(button, async () => {
      try {
        await api("/api/settings/wrapup", { method: "PUT", body: { codes } });
        toast(t("admin.texts.saved_wrapup"), "success");
      } catch (exc) {
        errs.show(exc, (field) => {
          const m = /^codes\[(\d+)\](?:\.(.+))?$/.exec(field);
          return m ? editor.find(Number(m[1]), m[2] || "code") : null;
        });
      }
    });
  });
  return el("section", { class: "card texts-card", "aria-labelledby": "texts-wrapup-title" },
    el("h3", { class: "section-title", id: "texts-wrapup-title", text: t("admin.texts.wrapup") }), form);
}

function keywordsCard(rules, skills) {
  const options = skills.map((s) => ({ value: s.name, text: typeof s.label === "string" ? `${s.label} (${s.name})` : s.name }));
  const editor = rowsEditor({
    prefix: "kw", rows: rules, title: t("admin.texts.keywords"),
    blank: () => ({ keyword: "", skill: options.length ? options[0].value : "" }),
    columns: [{ key: "keyword", label: t("admin.texts.keyword"), max: 50 }, { key: "skill", label: t("admin.texts.skill"), options }],
  });
  const form = el("form", { novalidate: true, "aria-labelledby": "texts-keywords-title" },
    el("p", { class: "muted small", text: t("admin.texts.keywords_hint") }), editor.table);
  const button = saveButton();
  const errs = errors(form);
  form.append(el("div", { class: "admin-actions" }, editor.add, button));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    errs.clear();
    const body = editor.values().map((r) => ({ keyword: r.keyword, skill: r.skill }));
    saving(button, async () => {
      try {
        await api("/api/settings/keyword_rules", { method: "PUT", body });
        toast(t("admin.texts.saved_keywords"), "success");
      } catch (exc) {
        errs.show(exc, (field) => {
          const m = /^keyword_rules\[(\d+)\](?:\.(.+))?$/.exec(field);
          return m ? editor.find(Number(m[1]), m[2] || "keyword") : null;
        });
      }
    });
  });
  return el("section", { class: "card texts-card", "aria-labelledby": "texts-keywords-title" },
    el("h3", { class: "section-title", id: "texts-keywords-title", text: t("admin.texts.keywords") }), form);
}

export async function render(root) {
  const [messages, wrapup, rules, catalogue] = await Promise.all([
    api("/api/settings/messages"), api("/api/settings/wrapup"), api("/api/settings/keyword_rules"), api("/api/skills")]);
  root.append(el("p", { class: "muted", text: t("admin.texts.intro") }),
    el("div", { class: "texts-grid" }, messagesCard(messages || {}),
      el("div", { class: "texts-side" }, wrapupCard(wrapup || {}), keywordsCard(rules || [], (catalogue && catalogue.skills) || []))));
}
