// The admin console's template messages section (模板消息 / 信息推送): the templates the Official
// Account has (the setting "templates": WeChat's template id, its title, what it is for, its fields
// with their labels — copied from the WeChat platform's 我的模板), the rate limits (the setting
// "notification_limits") and the latest notifications sent. Each save is validated by the server
// (the refused field is named, marked and focused), versioned and audited. The preview on the
// side is drawn as WeChat shows a template message.
import { api } from "kefu/api";
import { t } from "kefu/i18n";
import { el, clear, toast, fmtDateTime } from "kefu/ui";

const PURPOSES = ["transaction", "leave_message", "bill", "notification"];
const LIMIT_KEYS = ["caller_per_minute", "caller_burst", "customer_per_hour", "customer_burst"];
const RECENT = 20;
// WeChat's delivery report (TEMPLATESENDJOBFINISH Status) in three words.
const deliveryKey = (d) => (d === "success" ? "delivered" : /user block/.test(d) ? "blocked" : "undelivered");
const fieldId = (field) => `tpl-f-${field.replace(/[^a-z0-9]+/gi, "-")}`;

export async function render(root) {
  const [templatesSaved, limitsSaved, recent] = await Promise.all([
    api("/api/settings/templates?meta=1"),
    api("/api/settings/notification_limits"),
    api(`/api/notifications?limit=${RECENT}`).catch(() => ({ notifications: [] })),
  ]);
  let templates = structuredClone(templatesSaved.value || []);
  let version = templatesSaved.version;
  let savedJson = JSON.stringify(templates);
  let shown = 0; // the template in the preview

  const editor = el("div", { class: "tpl-editor", id: "tpl-editor" });
  const preview = el("div", { class: "wx-phone tpl-preview", id: "tpl-preview", role: "group", "aria-label": t("admin.tpl.preview") });
  const errorBox = el("p", { class: "banner banner-warn", id: "tpl-error", role: "alert", hidden: true });
  const status = el("p", { class: "muted small", id: "tpl-status", role: "status" });
  const saveBtn = el("button", { type: "button", class: "btn btn-primary", id: "tpl-save", text: t("admin.save") });
  const addBtn = el("button", { type: "button", class: "btn btn-sm", id: "tpl-add", text: t("admin.tpl.add") });
  const datalist = el("datalist", { id: "tpl-purposes" }, PURPOSES.map((p) => el("option", { value: p, label: t(`admin.tpl.purpose_${p}`) })));

  const dirty = () => JSON.stringify(templates) !== savedJson;
  function updateStatus() {
    status.textContent = [t("admin.tpl.saved_version", { version }), dirty() ? t("admin.tpl.unsaved") : null].filter(Boolean).join(" · ");
    saveBtn.disabled = !dirty();
  }
  function clearError() {
    errorBox.hidden = true;
    for (const node of root.querySelectorAll("[aria-invalid]")) node.removeAttribute("aria-invalid");
  }
  function showError(box, message, field) {
    box.textContent = message;
    box.hidden = false;
    const input = field && document.getElementById(fieldId(field));
    if (input) {
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", box.id);
      input.focus();
    }
  }
  function changed() {
    clearError();
    drawPreview();
    updateStatus();
  }

  function input(field, value, label, onInput, extra = {}) {
    const node = el("input", { id: fieldId(field), value: value || "", autocomplete: "off", ...extra });
    node.addEventListener("input", () => { onInput(node.value); changed(); });
    node.addEventListener("focus", () => {
      const i = Number((/^templates\[(\d+)\]/.exec(field) || [])[1]);
      if (Number.isInteger(i) && i !== shown) { shown = i; drawPreview(); }
    });
    return el("div", { class: "field" }, el("label", { for: fieldId(field), text: label }), node);
  }

  function draw() {
    clear(editor);
    if (!templates.length) editor.append(el("p", { class: "muted", id: "tpl-empty", text: t("admin.tpl.empty") }));
    templates.forEach((tpl, i) => {
      const at = `templates[${i}]`;
      const name = tpl.title || t("admin.tpl.template_n", { n: i + 1 });
      const fields = el("ol", { class: "tpl-fields" });
      (tpl.fields || []).forEach((f, j) => {
        const fat = `${at}.fields[${j}]`;
        fields.append(el("li", { class: "tpl-field menu-row" },
          el("div", { class: "admin-form tpl-field-inputs" },
            input(`${fat}.key`, f.key, t("admin.tpl.field_key", { n: j + 1 }), (v) => { f.key = v.trim(); }, { placeholder: "thing3", spellcheck: "false" }),
            input(`${fat}.label`, f.label, t("admin.tpl.field_label", { n: j + 1 }), (v) => { f.label = v; }, { placeholder: "交易类型" })),
          el("button", { type: "button", class: "btn btn-danger-ghost btn-sm", "aria-label": t("admin.tpl.remove_field", { n: j + 1, name }),
            onclick: () => { tpl.fields.splice(j, 1); draw(); }, text: t("admin.delete") })));
      });
      const addField = el("button", { type: "button", class: "btn btn-sm tpl-add-field", text: t("admin.tpl.add_field"),
        onclick: () => { tpl.fields.push({ key: "", label: "" }); draw(); document.getElementById(fieldId(`${at}.fields[${tpl.fields.length - 1}].key`))?.focus(); } });
      editor.append(el("fieldset", { class: "card tpl-card", dataset: { index: String(i) } },
        el("legend", { class: "section-title", text: name }),
        el("div", { class: "admin-form" },
          input(`${at}.id`, tpl.id, t("admin.tpl.id"), (v) => { tpl.id = v.trim(); }, { spellcheck: "false", class: "mono" }),
          input(`${at}.title`, tpl.title, t("admin.tpl.title"), (v) => { tpl.title = v; }),
          input(`${at}.purpose`, tpl.purpose, t("admin.tpl.purpose"), (v) => { tpl.purpose = v.trim(); }, { list: "tpl-purposes" })),
        el("div", { id: fieldId(`${at}.fields`), tabindex: "-1" }, fields, addField),
        el("div", { class: "admin-actions" },
          el("button", { type: "button", class: "btn btn-danger-ghost btn-sm", "aria-label": t("admin.tpl.remove", { name }),
            onclick: () => { templates.splice(i, 1); shown = 0; draw(); }, text: t("admin.tpl.remove_short") }))));
    });
    changed();
  }

  // As WeChat shows a template message: the title, each field as "label value", 详情 when linked.
  function drawPreview() {
    clear(preview);
    const tpl = templates[shown] || templates[0];
    const screen = el("div", { class: "wx-screen" }, el("div", { class: "wx-title", text: t("admin.tpl.preview") }));
    if (tpl) {
      screen.append(el("div", { class: "wx-template" },
        el("p", { class: "wx-template-title", text: tpl.title || "…" }),
        el("dl", { class: "wx-template-fields" }, (tpl.fields || []).flatMap((f) => [
          el("dt", { text: f.label || f.key || "…" }), el("dd", { text: `{{${f.key || "…"}.DATA}}` })])),
        el("p", { class: "wx-template-more", text: "详情" })));
    }
    preview.append(screen);
  }

  saveBtn.addEventListener("click", async () => {
    saveBtn.disabled = true;
    saveBtn.textContent = t("admin.saving");
    try {
      const value = await api("/api/settings/templates", { method: "PUT", body: templates });
      const meta = await api("/api/settings/templates?meta=1");
      version = meta.version;
      templates = structuredClone(value);
      savedJson = JSON.stringify(templates);
      toast(t("admin.saved", { version }), "success");
      draw();
    } catch (exc) {
      showError(errorBox, t("admin.save_failed", { reason: exc.message }), exc.field);
    } finally {
      saveBtn.textContent = t("admin.save");
      updateStatus();
    }
  });
  addBtn.addEventListener("click", () => {
    templates.push({ id: "", title: "", purpose: "notification", fields: [{ key: "", label: "" }] });
    shown = templates.length - 1;
    draw();
    document.getElementById(fieldId(`templates[${shown}].id`))?.focus();
  });

  // -- the rate limits ---------------------------------------------------------------------------
  const limitsError = el("p", { class: "banner banner-warn", id: "tpl-limits-error", role: "alert", hidden: true });
  const limitInputs = Object.fromEntries(LIMIT_KEYS.map((k) => [k, el("input", { id: fieldId(`notification_limits.${k}`), type: "number", min: "1", step: "1", value: String(limitsSaved[k] ?? "") })]));
  const limitsForm = el("form", { class: "card", id: "tpl-limits", "aria-labelledby": "tpl-limits-title", novalidate: true },
    el("h2", { class: "section-title", id: "tpl-limits-title", text: t("admin.tpl.limits") }),
    el("p", { class: "muted small", text: t("admin.tpl.limits_intro") }),
    el("div", { class: "admin-form tpl-limits-grid" }, LIMIT_KEYS.map((k) =>
      el("div", { class: "field" }, el("label", { for: limitInputs[k].id, text: t(`admin.tpl.${k}`) }), limitInputs[k]))),
    limitsError,
    el("div", { class: "admin-actions" }, el("button", { type: "submit", class: "btn", id: "tpl-limits-save", text: t("admin.tpl.limits_save") })));
  limitsForm.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    limitsError.hidden = true;
    for (const node of limitsForm.querySelectorAll("[aria-invalid]")) node.removeAttribute("aria-invalid");
    const body = Object.fromEntries(LIMIT_KEYS.map((k) => [k, limitInputs[k].value === "" ? null : Number(limitInputs[k].value)]));
    try {
      await api("/api/settings/notification_limits", { method: "PUT", body });
      toast(t("admin.tpl.limits_saved"), "success");
    } catch (exc) {
      showError(limitsError, t("admin.save_failed", { reason: exc.message }), exc.field);
    }
  });

  // -- the latest notifications -----------------------------------------------------------------
  const rows = (recent.notifications || []).map((n) => el("tr", {},
    el("td", { text: fmtDateTime(n.created_at) }),
    el("td", { class: "mono", text: n.openid }),
    el("td", { text: n.title || n.template_id }),
    el("td", { text: n.kind }),
    el("td", {}, el("span", { class: `tag tpl-status-${n.status}`, text: t(`admin.tpl.status_${n.status}`) }),
      n.delivery ? el("span", { class: "small", text: ` ${t(`admin.tpl.delivery_${deliveryKey(n.delivery)}`)}` }) : null,
      n.error ? el("span", { class: "muted small", text: ` ${n.error.code}${n.error.errcode ? ` (${n.error.errcode})` : ""}` }) : null)));
  const recentCard = el("section", { class: "card", "aria-labelledby": "tpl-recent-title" },
    el("h2", { class: "section-title", id: "tpl-recent-title", text: t("admin.tpl.recent") }),
    rows.length
      ? el("table", { class: "table", id: "tpl-recent" },
        el("thead", {}, el("tr", {}, ["col_time", "col_customer", "col_template", "col_kind", "col_status"].map((c) => el("th", { scope: "col", text: t(`admin.tpl.${c}`) })))),
        el("tbody", {}, rows))
      : el("p", { class: "muted", id: "tpl-recent-none", text: t("admin.tpl.recent_none") }));

  root.append(
    el("p", { class: "muted", text: t("admin.tpl.intro") }),
    datalist,
    el("div", { class: "menu-layout" },
      el("div", { class: "menu-main" }, editor, el("div", { class: "admin-actions" }, addBtn, saveBtn), errorBox, status),
      el("aside", { class: "menu-side", "aria-label": t("admin.tpl.preview") }, preview)),
    limitsForm,
    recentCard,
  );
  draw();
}
