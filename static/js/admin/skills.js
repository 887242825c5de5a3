// Admin section "skills": the skills (queues) and their business hours, and the priority rules.
// Reads GET /api/skills, saves one skill with PUT /api/skills/{name} and the rules with
// PUT /api/settings/priority_rules. The server checks every field (desk/skill_rules.py): its
// bad_field answer names the field, and the error is shown next to that field here.
import { api } from "kefu/api";
import { t, lang } from "kefu/i18n";
import { el, clear, toast } from "kefu/ui";

const STRATEGIES = ["longest_idle", "least_occupied", "best_skill", "round_robin"];
const MODES = ["human_first", "bot_first", "bot_only"];
const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const DEFAULT_TZ = "Asia/Shanghai";

let uid = 0;
const nextId = (base) => `${base}-${++uid}`;

/** A labelled control with its own error line, found again by its server field name. */
function field(name, labelText, control, hint) {
  const id = control.id || nextId(`sk-${name.replace(/[^a-z0-9]+/gi, "-")}`);
  control.id = id;
  const err = el("span", { class: "field-error", id: `${id}-err`, hidden: true });
  const hintNode = hint ? el("span", { class: "hint", id: `${id}-hint`, text: hint }) : null;
  control.setAttribute("aria-describedby", [hintNode && hintNode.id, err.id].filter(Boolean).join(" "));
  return el("div", { class: "field", dataset: { field: name } }, el("label", { for: id, text: labelText }), control, hintNode, err);
}

function input(type, value, extra = {}) {
  return el("input", { type, value: value === null || value === undefined ? "" : String(value), ...extra });
}

function select(options, value) {
  const node = el("select", {}, ...options.map(([v, text]) => el("option", { value: v, text })));
  node.value = value;
  return node;
}

const spansText = (spans) => (spans || []).map(([a, b]) => `${a}-${b}`).join(", ");
// "09:00-12:00, 13:00-18:00" -> [["09:00","12:00"], ["13:00","18:00"]]; what does not parse is
// sent as it is, for the server to name.
function parseSpans(text) {
  return text.split(/[,;，；\s]+/).filter(Boolean).map((piece) => {
    const parts = piece.split(/[-–~至]/);
    return parts.length === 2 ? parts.map((p) => p.trim()) : [piece];
  });
}
const parseDates = (text) => text.split(/[,;，；\s]+/).filter(Boolean);

function labelOf(skill) {
  return (skill.labels && skill.labels[lang()]) || skill.label || skill.name;
}

function hoursSummary(hours) {
  if (!hours) return t("admin.skills.always_open");
  const days = DAYS.filter((d) => (hours.weekly || {})[d] && hours.weekly[d].length);
  return t("admin.skills.hours_summary", { tz: hours.timezone, days: days.map((d) => t(`admin.skills.day.${d}`)).join(" ") || "—" });
}

export async function render(root, { user }) {
  const canEdit = (user.roles || []).includes("admin");
  let skills = (await api("/api/skills")).skills;
  const listCard = el("section", { class: "card admin-card-block", "aria-labelledby": "skills-list-title" });
  const editorCard = el("section", { class: "card admin-card-block", "aria-labelledby": "skill-editor-title", hidden: true });
  const rulesCard = el("section", { class: "card admin-card-block", "aria-labelledby": "priority-rules-title" });
  root.append(el("p", { class: "muted", text: t("admin.skills.intro") }), listCard, editorCard, rulesCard);

  function renderList() {
    clear(listCard);
    const addBtn = canEdit ? el("button", { type: "button", class: "btn btn-primary btn-sm", text: t("admin.skills.new"), onclick: () => openEditor(null) }) : null;
    const body = el("tbody");
    for (const s of skills) {
      const label = labelOf(s);
      body.append(el("tr", { dataset: { skill: s.name } },
        el("th", { scope: "row" }, el("span", { text: label }), " ", el("span", { class: "muted mono small", text: s.name })),
        el("td", { text: t(`admin.skills.strategy.${s.strategy}`) }),
        el("td", { class: "mono", text: `${s.sla_secs} s / ${s.sla_target}%` }),
        el("td", { text: hoursSummary(s.hours) }),
        el("td", { text: t(`admin.skills.mode.${s.mode}`) }),
        el("td", { class: "actions" }, el("button", { type: "button", class: "btn btn-sm", text: canEdit ? t("admin.edit") : t("admin.skills.view"),
          "aria-label": t("admin.skills.edit_named", { name: label }), onclick: () => openEditor(s) }))));
    }
    listCard.append(
      el("div", { class: "card-head" }, el("h2", { id: "skills-list-title", class: "section-title", text: t("admin.skills.list_title") }), addBtn),
      el("table", { class: "table", id: "skills-table" },
        el("thead", {}, el("tr", {}, ...["name", "strategy", "sla", "hours", "mode"].map((k) => el("th", { scope: "col", text: t(`admin.skills.col.${k}`) })),
          el("th", { scope: "col" }, el("span", { class: "sr-only", text: t("admin.skills.col.actions") })))),
        body));
  }

  function openEditor(skill) {
    const creating = !skill;
    const s = skill || { name: "", labels: {}, strategy: "longest_idle", sla_secs: 30, sla_target: 80, offer_timeout_s: 20, max_wait_s: null, overflow: null, mode: "human_first", hours: null, leave_message_sla_s: 28800 };
    const hours = s.hours || { timezone: DEFAULT_TZ, weekly: { mon: [["09:00", "18:00"]], tue: [["09:00", "18:00"]], wed: [["09:00", "18:00"]], thu: [["09:00", "18:00"]], fri: [["09:00", "18:00"]] }, holidays: [], workdays: [] };
    const c = {
      name: input("text", s.name, { required: true, maxlength: "32", autocomplete: "off", disabled: !creating }),
      zh: input("text", (s.labels || {})["zh-CN"] || s.label || "", { maxlength: "64" }),
      en: input("text", (s.labels || {}).en || "", { maxlength: "64" }),
      strategy: select(STRATEGIES.map((v) => [v, t(`admin.skills.strategy.${v}`)]), s.strategy),
      mode: select(MODES.map((v) => [v, t(`admin.skills.mode.${v}`)]), s.mode),
      sla_secs: input("number", s.sla_secs, { min: "1", step: "1" }),
      sla_target: input("number", s.sla_target, { min: "1", max: "100", step: "1" }),
      offer: input("number", s.offer_timeout_s, { min: "1", max: "3600", step: "1" }),
      max_wait: input("number", s.max_wait_s, { min: "1", step: "1", placeholder: t("admin.skills.no_limit") }),
      // Leave-messages (留言): due in this many hours of the skill's business hours (kept in seconds).
      lm_sla: input("number", (s.leave_message_sla_s || 28800) / 3600, { min: "0.1", max: "720", step: "0.5" }),
      overflow_to: select([["", t("admin.skills.no_overflow")], ...skills.filter((o) => o.name !== s.name).map((o) => [o.name, labelOf(o)])], (s.overflow && s.overflow.to) || ""),
      overflow_after: input("number", s.overflow ? s.overflow.after_s : 60, { min: "0", step: "1" }),
      always: el("input", { type: "checkbox", id: nextId("sk-always") }),
      tz: input("text", hours.timezone, { list: "sk-timezones", autocomplete: "off" }),
      days: Object.fromEntries(DAYS.map((d) => [d, input("text", spansText((hours.weekly || {})[d]), { placeholder: t("admin.skills.closed"), inputmode: "numeric" })])),
      holidays: el("textarea", { rows: "2", text: (hours.holidays || []).join(", ") }),
      workdays: el("textarea", { rows: "2", text: (hours.workdays || []).join(", ") }),
    };
    c.always.checked = !s.hours;
    const zones = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [DEFAULT_TZ];
    const hoursBox = el("fieldset", { class: "skill-hours", "data-field": "hours" },
      el("legend", { text: t("admin.skills.hours") }),
      el("div", { class: "admin-form" }, field("hours.timezone", t("admin.skills.timezone"), c.tz, t("admin.skills.timezone_hint"))),
      el("datalist", { id: "sk-timezones" }, ...zones.map((z) => el("option", { value: z }))),
      el("div", { class: "skill-week" }, ...DAYS.map((d) => field(`hours.weekly.${d}`, t(`admin.skills.day.${d}`), c.days[d]))),
      el("p", { class: "hint", text: t("admin.skills.spans_hint") }),
      el("div", { class: "admin-form" },
        field("hours.holidays", t("admin.skills.holidays"), c.holidays, t("admin.skills.dates_hint")),
        field("hours.workdays", t("admin.skills.workdays"), c.workdays, t("admin.skills.workdays_hint"))));
    const syncHours = () => { hoursBox.hidden = c.always.checked; };
    c.always.addEventListener("change", syncHours);
    syncHours();
    const formError = el("p", { class: "form-error", role: "alert", hidden: true });
    const saveBtn = el("button", { type: "submit", class: "btn btn-primary", text: t("admin.save") });
    const form = el("form", { class: "skill-editor", novalidate: true },
      el("fieldset", { class: "plain-fieldset", disabled: !canEdit },
        el("div", { class: "admin-form" },
          field("name", t("admin.skills.name"), c.name, creating ? t("admin.skills.name_hint") : null),
          field("labels.zh-CN", t("admin.skills.label_zh"), c.zh),
          field("labels.en", t("admin.skills.label_en"), c.en),
          field("strategy", t("admin.skills.strategy_label"), c.strategy),
          field("mode", t("admin.skills.mode_label"), c.mode),
          field("sla_secs", t("admin.skills.sla_secs"), c.sla_secs),
          field("sla_target", t("admin.skills.sla_target"), c.sla_target),
          field("offer_timeout_s", t("admin.skills.offer_timeout"), c.offer),
          field("max_wait_s", t("admin.skills.max_wait"), c.max_wait, t("admin.skills.max_wait_hint")),
          field("leave_message_sla_s", t("admin.skills.lm_sla"), c.lm_sla, t("admin.skills.lm_sla_hint")),
          field("overflow.to", t("admin.skills.overflow_to"), c.overflow_to),
          field("overflow.after_s", t("admin.skills.overflow_after"), c.overflow_after)),
        el("label", { class: "check", for: c.always.id }, c.always, " ", t("admin.skills.always_open")),
        hoursBox,
        formError,
        canEdit ? el("div", { class: "admin-actions" }, saveBtn,
          el("button", { type: "button", class: "btn btn-ghost", text: t("admin.skills.cancel"), onclick: () => { editorCard.hidden = true; } })) : null));

    const num = (node) => (node.value.trim() === "" ? null : Number(node.value));
    function clearErrors() {
      formError.hidden = true;
      for (const n of form.querySelectorAll(".field-error")) { n.hidden = true; n.textContent = ""; }
      for (const n of form.querySelectorAll("[aria-invalid]")) n.removeAttribute("aria-invalid");
    }
    function showError(fieldName, message) {
      const name = fieldName === "label" ? "labels.zh-CN" : fieldName;
      const box = name && form.querySelector(`.field[data-field="${CSS.escape(name)}"]`);
      const text = message.startsWith(`${fieldName}: `) ? message.slice(fieldName.length + 2) : message;
      if (box) {
        const err = box.querySelector(".field-error");
        err.textContent = text;
        err.hidden = false;
        const control = box.querySelector("input, select, textarea");
        control.setAttribute("aria-invalid", "true");
        control.focus();
      }
      formError.textContent = t("admin.save_failed", { reason: message });
      formError.hidden = false;
    }
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      clearErrors();
      const name = c.name.value.trim();
      if (!name) return showError("name", t("admin.skills.name_required"));
      const labels = {};
      if (c.zh.value.trim()) labels["zh-CN"] = c.zh.value.trim();
      if (c.en.value.trim()) labels.en = c.en.value.trim();
      const body = {
        labels, strategy: c.strategy.value, mode: c.mode.value, sla_secs: num(c.sla_secs), sla_target: num(c.sla_target),
        offer_timeout_s: num(c.offer), max_wait_s: num(c.max_wait),
        leave_message_sla_s: c.lm_sla.value === "" ? undefined : Math.round(Number(c.lm_sla.value) * 3600),
        overflow: c.overflow_to.value ? { to: c.overflow_to.value, after_s: num(c.overflow_after) } : null,
        hours: c.always.checked ? null : {
          timezone: c.tz.value.trim(),
          weekly: Object.fromEntries(DAYS.map((d) => [d, parseSpans(c.days[d].value)]).filter(([, spans]) => spans.length)),
          holidays: parseDates(c.holidays.value), workdays: parseDates(c.workdays.value),
        },
      };
      saveBtn.disabled = true;
      saveBtn.textContent = t("admin.saving");
      try {
        const saved = await api(`/api/skills/${encodeURIComponent(name)}`, { method: "PUT", body });
        skills = (await api("/api/skills")).skills;
        renderList();
        toast(t("admin.skills.saved", { name: labelOf(saved) }), "success", { timeoutMs: 3000 });
        openEditor(saved);
      } catch (exc) {
        showError(exc.field || null, exc.message || String(exc));
      } finally {
        saveBtn.disabled = false;
        saveBtn.textContent = t("admin.save");
      }
    });
    clear(editorCard).append(
      el("h2", { id: "skill-editor-title", class: "section-title", text: creating ? t("admin.skills.new") : t("admin.skills.editing", { name: labelOf(s) }) }),
      form);
    editorCard.hidden = false;
    (creating ? c.name : c.zh).focus();
  }

  async function renderRules() {
    clear(rulesCard);
    const rules = await api("/api/settings/priority_rules").catch(() => null);
    rulesCard.append(el("h2", { id: "priority-rules-title", class: "section-title", text: t("admin.priority.title") }),
      el("p", { class: "muted small", text: t("admin.priority.intro") }));
    if (!rules) {
      rulesCard.append(el("p", { class: "muted", text: t("admin.priority.unavailable") }));
      return;
    }
    const list = el("div", { class: "priority-rules" });
    const formError = el("p", { class: "form-error", role: "alert", hidden: true });
    function row(rule) {
      const tag = input("text", rule.tag, { maxlength: "32" });
      const prio = input("number", rule.priority, { min: "0", max: "100", step: "1" });
      const node = el("div", { class: "admin-form priority-rule" },
        field("tag", t("admin.priority.tag"), tag), field("priority", t("admin.priority.priority"), prio),
        canEdit ? el("div", { class: "field" }, el("button", { type: "button", class: "btn btn-sm btn-danger-ghost", text: t("admin.delete"),
          "aria-label": t("admin.priority.delete_named", { tag: rule.tag || "—" }), onclick: () => node.remove() })) : null);
      node.read = () => ({ tag: tag.value.trim(), priority: prio.value.trim() === "" ? null : Number(prio.value) });
      return node;
    }
    for (const r of rules) list.append(row(r));
    const form = el("form", { novalidate: true },
      el("fieldset", { class: "plain-fieldset", disabled: !canEdit }, list, formError,
        canEdit ? el("div", { class: "admin-actions" },
          el("button", { type: "button", class: "btn btn-sm", text: t("admin.priority.add"), onclick: () => list.append(row({ tag: "", priority: 5 })) }),
          el("button", { type: "submit", class: "btn btn-primary", text: t("admin.save") })) : null));
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      formError.hidden = true;
      for (const n of form.querySelectorAll(".field-error")) n.hidden = true;
      const rows = [...list.children];
      try {
        await api("/api/settings/priority_rules", { method: "PUT", body: rows.map((r) => r.read()) });
        toast(t("admin.priority.saved"), "success", { timeoutMs: 3000 });
      } catch (exc) {
        const m = /^priority_rules\[(\d+)\]\.(tag|priority)$/.exec(exc.field || "");
        if (m && rows[Number(m[1])]) {
          const err = rows[Number(m[1])].querySelector(`.field[data-field="${m[2]}"] .field-error`);
          err.textContent = exc.message.replace(/^[^:]+: /, "");
          err.hidden = false;
        }
        formError.textContent = t("admin.save_failed", { reason: exc.message || String(exc) });
        formError.hidden = false;
      }
    });
    rulesCard.append(form);
  }

  renderList();
  await renderRules();
}
