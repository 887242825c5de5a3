// Admin section "alerts" (告警阈值): when the supervisors' wall raises an alert. One setting,
// PUT /api/settings/alerts: the oldest wait, the service level and the queue length per skill (with
// optional per-skill overrides), and how long an agent may stay away. An empty field is no alert
// (null); the service level is typed as a percentage and stored as a fraction (0.8). A refusal
// names the field ("skills.loans.oldest_wait_s: ..."); the form marks that input and says why.
import { t } from "kefu/i18n";
import { api } from "kefu/api";
import { el, toast, skillLabel } from "kefu/ui";

const SKILL_FIELDS = ["oldest_wait_s", "service_level_below", "queue_length_above"];
const FIELDS = [...SKILL_FIELDS, "agent_away_s"];

// What an input shows for a stored value, and what it sends back (null: off / inherited).
function shown(name, value) {
  if (value === null || value === undefined) return "";
  return name === "service_level_below" ? String(Math.round(value * 1000) / 10) : String(value);
}

function parsed(name, text) {
  const raw = String(text).trim();
  if (!raw) return null;
  const n = Number(raw);
  if (!Number.isFinite(n)) return raw; // the server names the field and says why
  return name === "service_level_below" ? Math.round(n * 10) / 1000 : n;
}

function numberInput(id, name, value, label) {
  const input = el("input", { id, type: "number", inputmode: "decimal", min: name === "queue_length_above" ? "0" : "1",
    max: name === "service_level_below" ? "100" : undefined, step: name === "service_level_below" ? "0.1" : "1",
    "data-field": name, autocomplete: "off", "aria-label": label });
  input.value = shown(name, value);
  return input;
}

export async function render(root) {
  const [setting, catalogue] = await Promise.all([api("/api/settings/alerts"), api("/api/skills")]);
  const skills = (catalogue && catalogue.skills) || [];
  const values = setting || {};
  const form = el("form", { class: "alerts-form", novalidate: true, "aria-labelledby": "alerts-defaults-title" });
  const inputs = {};

  const defaults = el("div", { class: "alerts-defaults" });
  for (const name of FIELDS) {
    const id = `alert-${name}`;
    inputs[name] = numberInput(id, name, values[name], t(`admin.alerts.field.${name}`));
    inputs[name].removeAttribute("aria-label");
    inputs[name].setAttribute("aria-describedby", `${id}-hint`);
    defaults.append(el("div", { class: "field" },
      el("label", { for: id, text: t(`admin.alerts.field.${name}`) }),
      el("span", { class: "input-unit" }, inputs[name], el("span", { class: "muted small", text: t(`admin.alerts.unit.${name}`) })),
      el("span", { class: "muted small", id: `${id}-hint`, text: t(`admin.alerts.hint.${name}`) })));
  }

  // Per-skill overrides: an empty cell follows the default above.
  const overrides = (values.skills || {});
  const body = el("tbody");
  for (const s of skills) {
    const own = overrides[s.name] || {};
    const label = skillLabel(skills, s.name);
    const tr = el("tr", { dataset: { skill: s.name } }, el("th", { scope: "row", text: label }));
    for (const name of SKILL_FIELDS) {
      const id = `alert-${s.name}-${name}`;
      const input = numberInput(id, name, own[name], t("admin.alerts.override_of", { skill: label, field: t(`admin.alerts.field.${name}`) }));
      if (name in own && own[name] === null) input.placeholder = t("admin.alerts.off");
      inputs[`skills.${s.name}.${name}`] = input;
      tr.append(el("td", {}, input));
    }
    body.append(tr);
  }
  const table = el("table", { class: "table alerts-table" },
    el("caption", { class: "sr-only", text: t("admin.alerts.overrides") }),
    el("thead", {}, el("tr", {}, el("th", { scope: "col", text: t("admin.alerts.skill") }),
      ...SKILL_FIELDS.map((n) => el("th", { scope: "col", text: `${t(`admin.alerts.field.${n}`)} (${t(`admin.alerts.unit.${n}`)})` })))),
    body);

  const summary = el("p", { class: "form-error", role: "alert", hidden: true });
  const button = el("button", { type: "submit", class: "btn btn-primary", text: t("admin.save") });
  form.append(
    el("h3", { class: "section-title", id: "alerts-defaults-title", text: t("admin.alerts.defaults") }), defaults,
    el("h3", { class: "section-title", id: "alerts-overrides-title", text: t("admin.alerts.overrides") }),
    el("p", { class: "muted small", text: t("admin.alerts.overrides_hint") }), table, summary,
    el("div", { class: "admin-actions" }, button));

  function clearErrors() {
    summary.hidden = true;
    for (const n of form.querySelectorAll("[aria-invalid]")) n.removeAttribute("aria-invalid");
    for (const n of form.querySelectorAll(".field-error")) n.remove();
  }

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearErrors();
    const sent = Object.fromEntries(FIELDS.map((n) => [n, parsed(n, inputs[n].value)]));
    sent.skills = {};
    for (const s of skills) {
      const own = {};
      for (const name of SKILL_FIELDS) {
        const input = inputs[`skills.${s.name}.${name}`];
        const value = parsed(name, input.value);
        // An override stored as "off" (null) stays off while its cell is left empty.
        if (value !== null) own[name] = value;
        else if ((overrides[s.name] || {})[name] === null) own[name] = null;
      }
      if (Object.keys(own).length) sent.skills[s.name] = own;
    }
    button.disabled = true;
    try {
      await api("/api/settings/alerts", { method: "PUT", body: sent });
      toast(t("admin.alerts.saved"), "success");
    } catch (exc) {
      const m = /^([A-Za-z_.\-0-9]+):\s*(.*)$/s.exec((exc && exc.message) || "");
      const input = m ? inputs[m[1]] : null;
      summary.textContent = t("admin.save_failed", { reason: (exc && exc.message) || String(exc) });
      summary.hidden = false;
      if (input) {
        input.setAttribute("aria-invalid", "true");
        // The server counts the service level as a fraction; this form as a percentage.
        const reason = /service_level_below$/.test(m[1]) ? t("admin.alerts.sl_range") : m[2];
        const note = el("span", { class: "field-error small", id: `${input.id}-error`, text: reason });
        input.setAttribute("aria-describedby", `${input.id}-error`);
        (input.closest(".input-unit") || input).after(note);
        input.focus();
      }
    } finally {
      button.disabled = false;
    }
  });

  root.append(el("p", { class: "muted", text: t("admin.alerts.intro") }),
    el("section", { class: "card alerts-card", "aria-labelledby": "alerts-defaults-title" }, form));
}
