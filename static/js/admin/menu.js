// The admin console's WeChat menu section (自定义菜单): build the Official Account's custom menu,
// save it (the setting "menu": validated, versioned, audited) and publish it to WeChat.
// Up to 3 buttons of up to 5 sub-buttons; a button is a click (its key; skill:<name> routes the
// customer to that skill), a link (view, an http(s) URL) or opens its sub-buttons. The preview on
// the right is drawn like WeChat's menu bar. Limits are WeChat's (wechat/menu.py): names of 16
// bytes (top level) and 60 (sub-buttons), keys of 128, links of 1024.
import { api } from "kefu/api";
import { t } from "kefu/i18n";
import { el, clear, toast, fmtDateTime } from "kefu/ui";

const MAX_BUTTONS = 3;
const MAX_SUBS = 5;
const NAME_BYTES = 16;
const SUB_NAME_BYTES = 60;
const encoder = new TextEncoder();
const bytes = (s) => encoder.encode(s || "").length;

let uid = 0;
const fieldId = (field) => `menu-f-${field.replace(/[^a-z0-9]+/gi, "-")}`;

/** The editor's copy of a button: kind "click" | "view" | "parent". */
function fromWeChat(b) {
  if (b.sub_button && b.sub_button.length) {
    return { id: ++uid, kind: "parent", name: b.name, key: "", url: "", subs: b.sub_button.map(fromWeChat) };
  }
  return { id: ++uid, kind: b.type === "view" ? "view" : "click", name: b.name || "", key: b.key || "", url: b.url || "", subs: [] };
}

function toWeChat(b) {
  if (b.kind === "parent") return { name: b.name, sub_button: b.subs.map(toWeChat) };
  return b.kind === "view" ? { type: "view", name: b.name, url: b.url } : { type: "click", name: b.name, key: b.key };
}

export async function render(root) {
  const [state, catalogue] = await Promise.all([api("/api/menu"), api("/api/skills").catch(() => ({ skills: [] }))]);
  let saved = state.saved;
  let published = state.published;
  let buttons = (saved.value.button || []).map(fromWeChat);
  let savedJson = JSON.stringify(saved.value);
  let openParent = null; // the preview's open sub-menu

  const skillKeys = (catalogue.skills || []).map((s) => ({ key: `skill:${s.name}`, label: typeof s.label === "object" ? (s.label.zh || s.label.en || s.name) : (s.label || s.name) }));
  // Self-service actions (self:bill, self:bind…) sit beside the skills: a click item carries either.
  const lang = document.documentElement.lang.startsWith("zh") ? "zh" : "en";
  const selfKeys = (state.self_service_actions || []).map((a) => ({ key: a.key, label: `${t("admin.menu.self_service_keys")} · ${a.label[lang] || a.key}` }));
  const datalist = el("datalist", { id: "menu-skill-keys" }, [...skillKeys, ...selfKeys].map((s) => el("option", { value: s.key, label: s.label })));

  const editor = el("div", { class: "menu-editor", id: "menu-editor" });
  const preview = el("div", { class: "wx-phone", role: "group", "aria-label": t("admin.menu.preview") });
  const statusLine = el("p", { class: "muted small", id: "menu-status", role: "status" });
  const errorBox = el("p", { class: "banner banner-warn", id: "menu-error", role: "alert", hidden: true });
  const saveBtn = el("button", { type: "button", class: "btn btn-primary", id: "menu-save", text: t("admin.save") });
  const publishBtn = el("button", { type: "button", class: "btn", id: "menu-publish", text: t("admin.menu.publish") });
  // What WeChat reports as live (menu/get), updated after a publication.
  const live = el("p", { class: "muted small", id: "menu-live", text: state.live_error
    ? t("admin.menu.live_error", { reason: state.live_error })
    : state.live ? t("admin.menu.live", { names: state.live.button.map((b) => b.name).join(" | ") }) : t("admin.menu.live_none") });
  const addBtn = el("button", { type: "button", class: "btn btn-sm", id: "menu-add", text: t("admin.menu.add_button") });

  const current = () => ({ button: buttons.map(toWeChat) });
  const dirty = () => JSON.stringify(current()) !== savedJson;

  function showError(message, field) {
    errorBox.textContent = message;
    errorBox.hidden = false;
    for (const node of editor.querySelectorAll("[aria-invalid]")) node.removeAttribute("aria-invalid");
    const input = field && document.getElementById(fieldId(field));
    if (input) {
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", "menu-error");
      input.focus();
    }
  }
  function clearError() {
    errorBox.hidden = true;
    for (const node of editor.querySelectorAll("[aria-invalid]")) node.removeAttribute("aria-invalid");
  }

  function updateStatus() {
    const parts = [t("admin.menu.saved_version", { version: saved.version })];
    if (published) parts.push(t("admin.menu.published_version", { version: published.version, at: fmtDateTime(published.at) }));
    else parts.push(t("admin.menu.never_published"));
    if (dirty()) parts.push(t("admin.menu.unsaved"));
    else if (published && published.version !== saved.version) parts.push(t("admin.menu.unpublished"));
    statusLine.textContent = parts.join(" · ");
    publishBtn.disabled = dirty() || !buttons.length;
    saveBtn.disabled = !dirty();
    addBtn.disabled = buttons.length >= MAX_BUTTONS;
  }

  function changed() {
    clearError();
    drawPreview();
    updateStatus();
  }

  function move(list, i, delta) {
    const j = i + delta;
    if (j < 0 || j >= list.length) return;
    [list[i], list[j]] = [list[j], list[i]];
    draw();
  }

  function nameInput(b, field, limit, label) {
    const counter = el("span", { class: "muted small", id: `${fieldId(field)}-count` });
    const input = el("input", { id: fieldId(field), value: b.name, "aria-describedby": `${fieldId(field)}-count`, autocomplete: "off" });
    const count = () => {
      const n = bytes(input.value);
      counter.textContent = t("admin.menu.bytes", { n, max: limit });
      counter.classList.toggle("text-danger", n > limit);
    };
    input.addEventListener("input", () => { b.name = input.value; count(); changed(); });
    count();
    return el("div", { class: "field" }, el("label", { for: fieldId(field), text: label }), input, counter);
  }

  function actionFields(b, field, allowParent) {
    const kind = el("select", { id: fieldId(`${field}.type`) },
      el("option", { value: "click", text: t("admin.menu.kind_click") }),
      el("option", { value: "view", text: t("admin.menu.kind_view") }),
      allowParent ? el("option", { value: "parent", text: t("admin.menu.kind_parent") }) : null);
    kind.value = b.kind;
    kind.addEventListener("change", () => {
      b.kind = kind.value;
      if (b.kind === "parent" && !b.subs.length) b.subs.push({ id: ++uid, kind: "click", name: "", key: "", url: "", subs: [] });
      draw();
    });
    const out = [el("div", { class: "field" }, el("label", { for: fieldId(`${field}.type`), text: t("admin.menu.kind") }), kind)];
    if (b.kind === "click") {
      const input = el("input", { id: fieldId(`${field}.key`), value: b.key, list: "menu-skill-keys", autocomplete: "off", placeholder: "skill:cards" });
      input.addEventListener("input", () => { b.key = input.value.trim(); changed(); });
      out.push(el("div", { class: "field" }, el("label", { for: fieldId(`${field}.key`), text: t("admin.menu.key") }), input));
    } else if (b.kind === "view") {
      const input = el("input", { id: fieldId(`${field}.url`), value: b.url, type: "url", autocomplete: "off", placeholder: "https://" });
      input.addEventListener("input", () => { b.url = input.value.trim(); changed(); });
      out.push(el("div", { class: "field" }, el("label", { for: fieldId(`${field}.url`), text: t("admin.menu.url") }), input));
    }
    return out;
  }

  function rowTools(list, i, label) {
    return el("div", { class: "admin-actions menu-tools" },
      el("button", { type: "button", class: "btn btn-ghost btn-sm", "aria-label": t("admin.menu.move_up", { name: label }), disabled: i === 0, onclick: () => move(list, i, -1), text: "↑" }),
      el("button", { type: "button", class: "btn btn-ghost btn-sm", "aria-label": t("admin.menu.move_down", { name: label }), disabled: i === list.length - 1, onclick: () => move(list, i, 1), text: "↓" }),
      el("button", { type: "button", class: "btn btn-danger-ghost btn-sm", "aria-label": t("admin.menu.remove", { name: label }), onclick: () => { list.splice(i, 1); draw(); }, text: t("admin.delete") }));
  }

  function draw() {
    clear(editor);
    if (!buttons.length) editor.append(el("p", { class: "muted", text: t("admin.menu.empty") }));
    buttons.forEach((b, i) => {
      const field = `button[${i}]`;
      const label = b.name || t("admin.menu.button_n", { n: i + 1 });
      const card = el("fieldset", { class: "card menu-button", dataset: { index: String(i) } },
        el("legend", { class: "section-title", text: t("admin.menu.button_n", { n: i + 1 }) }),
        el("div", { class: "menu-row" },
          el("div", { class: "admin-form" }, nameInput(b, `${field}.name`, NAME_BYTES, t("admin.menu.name")), ...actionFields(b, field, true)),
          rowTools(buttons, i, label)));
      if (b.kind === "parent") {
        const subsList = el("ol", { class: "menu-subs" });
        b.subs.forEach((s, j) => {
          const sf = `${field}.sub_button[${j}]`;
          const sl = s.name || t("admin.menu.sub_n", { n: j + 1 });
          subsList.append(el("li", { class: "menu-sub menu-row", dataset: { index: String(j) } },
            el("div", { class: "admin-form" }, nameInput(s, `${sf}.name`, SUB_NAME_BYTES, t("admin.menu.sub_name", { n: j + 1 })), ...actionFields(s, sf, false)),
            rowTools(b.subs, j, sl)));
        });
        const addSub = el("button", { type: "button", class: "btn btn-sm menu-add-sub", text: t("admin.menu.add_sub"), disabled: b.subs.length >= MAX_SUBS });
        addSub.addEventListener("click", () => { b.subs.push({ id: ++uid, kind: "click", name: "", key: "", url: "", subs: [] }); draw(); });
        // The sub-button list's own field, where "at most 5 sub-buttons" is reported.
        card.append(el("div", { id: fieldId(`${field}.sub_button`), tabindex: "-1" }, subsList, addSub));
      }
      editor.append(card);
    });
    editor.append(el("div", { id: fieldId("button"), tabindex: "-1" }));
    changed();
  }

  function drawPreview() {
    clear(preview);
    const bar = el("div", { class: "wx-bar" }, el("span", { class: "wx-keyboard", "aria-hidden": "true", text: "⌨" }));
    buttons.forEach((b, i) => {
      const cell = el("div", { class: "wx-cell" });
      const btn = el("button", { type: "button", class: "wx-button", "aria-expanded": b.kind === "parent" ? String(openParent === i) : undefined, text: (b.kind === "parent" ? "≡ " : "") + (b.name || "…") });
      btn.addEventListener("click", () => { openParent = openParent === i ? null : i; drawPreview(); });
      cell.append(btn);
      if (b.kind === "parent" && openParent === i) {
        cell.append(el("ul", { class: "wx-pop" }, b.subs.map((s) => el("li", { text: s.name || "…" }))));
      }
      bar.append(cell);
    });
    preview.append(el("div", { class: "wx-screen" }, el("div", { class: "wx-title", text: t("admin.menu.preview") })), bar);
  }

  saveBtn.addEventListener("click", async () => {
    saveBtn.disabled = true;
    saveBtn.textContent = t("admin.saving");
    try {
      const value = await api("/api/settings/menu", { method: "PUT", body: current() });
      saved = await api("/api/settings/menu?meta=1");
      savedJson = JSON.stringify(value);
      buttons = (value.button || []).map(fromWeChat);
      toast(t("admin.saved", { version: saved.version }), "success");
      draw();
    } catch (exc) {
      showError(t("admin.save_failed", { reason: exc.message }), exc.field);
    } finally {
      saveBtn.textContent = t("admin.save");
      updateStatus();
    }
  });

  publishBtn.addEventListener("click", async () => {
    publishBtn.disabled = true;
    try {
      published = await api("/api/menu/publish", { method: "POST" });
      clearError();
      live.textContent = t("admin.menu.live", { names: published.menu.button.map((b) => b.name).join(" | ") });
      toast(t("admin.menu.published", { version: published.version }), "success");
    } catch (exc) {
      showError(t("admin.menu.publish_failed", { reason: exc.message }), exc.field);
    } finally {
      updateStatus();
    }
  });

  addBtn.addEventListener("click", () => {
    if (buttons.length >= MAX_BUTTONS) return;
    buttons.push({ id: ++uid, kind: "click", name: "", key: "", url: "", subs: [] });
    draw();
    document.getElementById(fieldId(`button[${buttons.length - 1}].name`))?.focus();
  });


  root.append(
    el("p", { class: "muted", text: t("admin.menu.intro") }),
    datalist,
    el("div", { class: "menu-layout" },
      el("div", { class: "menu-main" }, editor,
        el("div", { class: "admin-actions" }, addBtn, saveBtn, publishBtn), errorBox, statusLine),
      el("aside", { class: "menu-side", "aria-label": t("admin.menu.preview") }, preview, live)),
  );
  draw();
}
