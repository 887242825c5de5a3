// The admin page's canned replies (快捷回复): public replies (admins) and team replies (admins,
// and supervisors for their own teams), listed with a search and a category filter, created,
// edited and deleted. The server decides who may change what (each reply says `editable`);
// personal replies are the agents' own and are kept in the agent console.
import { t } from "kefu/i18n";
import { api } from "kefu/api";
import { el, clear, toast, showFormError } from "kefu/ui";
import { searchCanned, categoriesOf, scopeLabel, errorField, cannedErrorText, SHORTCUT_MAX_CHARS, TEXT_MAX_CHARS } from "kefu/canned";

const TEXT_PREVIEW_CHARS = 80;

function field(id, labelKey, control, hint) {
  return el("div", { class: "field" }, el("label", { for: id, text: t(labelKey) }), control,
    hint ? el("p", { class: "hint", id: `${id}-hint`, text: hint }) : null);
}

export async function render(root, { user }) {
  const isAdmin = (user.roles || []).includes("admin");
  let replies = [];
  let editing = null; // the reply being edited, or null for a new one

  const search = el("input", { id: "canned-admin-search", type: "search", autocomplete: "off" });
  const category = el("select", { id: "canned-admin-category" });
  const table = el("tbody");
  const empty = el("p", { class: "muted", id: "canned-admin-empty", hidden: true });

  const inputs = {
    shortcut: el("input", { id: "canned-f-shortcut", type: "text", autocomplete: "off", maxlength: String(SHORTCUT_MAX_CHARS + 1), "aria-describedby": "canned-f-shortcut-hint" }),
    title: el("input", { id: "canned-f-title", type: "text", autocomplete: "off" }),
    category: el("input", { id: "canned-f-category", type: "text", autocomplete: "off", list: "canned-f-categories" }),
    scope: el("select", { id: "canned-f-scope" }),
    team_id: el("input", { id: "canned-f-team", type: "text", autocomplete: "off", list: "canned-f-teams" }),
    text: el("textarea", { id: "canned-f-text", rows: "4", "aria-describedby": "canned-f-text-hint" }),
  };
  if (isAdmin) inputs.scope.append(el("option", { value: "public", text: t("canned.scope_public") }));
  inputs.scope.append(el("option", { value: "team", text: t("canned.scope_team") }));
  const categoryList = el("datalist", { id: "canned-f-categories" });
  const teamList = el("datalist", { id: "canned-f-teams" });
  const teamField = field("canned-f-team", "canned.team", inputs.team_id);
  const formTitle = el("h2", { class: "section-title", id: "canned-form-title" });
  const submit = el("button", { type: "submit", class: "btn btn-primary", id: "canned-f-submit", text: t("admin.save") });
  const cancel = el("button", { type: "button", class: "btn", id: "canned-f-cancel", text: t("common.cancel") });
  const form = el("form", { class: "card admin-canned-form", id: "canned-form", novalidate: true, "aria-labelledby": "canned-form-title" },
    formTitle,
    el("div", { class: "admin-form" },
      field("canned-f-shortcut", "canned.shortcut", inputs.shortcut),
      field("canned-f-title", "canned.title", inputs.title),
      field("canned-f-category", "canned.category", inputs.category),
      field("canned-f-scope", "canned.scope", inputs.scope),
      teamField),
    // Below the row, not in it: a hint under one field would lift that field's input out of line.
    el("p", { class: "hint", id: "canned-f-shortcut-hint", text: t("canned.shortcut_hint") }),
    field("canned-f-text", "canned.text", inputs.text, t("canned.placeholders_hint_max", { max: TEXT_MAX_CHARS })),
    categoryList, teamList,
    el("p", { class: "form-error", id: "canned-f-error", role: "alert", hidden: true }),
    el("div", { class: "admin-actions" }, submit, cancel));

  function showTeamField() {
    teamField.hidden = inputs.scope.value !== "team";
  }
  inputs.scope.addEventListener("change", showTeamField);
  for (const node of Object.values(inputs)) node.addEventListener("input", () => node.removeAttribute("aria-invalid"));

  function clearInvalid() {
    for (const node of Object.values(inputs)) node.removeAttribute("aria-invalid");
    showFormError("canned-f-error", "");
  }

  function startEdit(reply) {
    editing = reply;
    clearInvalid();
    formTitle.textContent = reply ? t("canned.edit_title", { shortcut: reply.shortcut }) : t("canned.new_title");
    for (const name of ["shortcut", "title", "category", "text", "team_id"]) inputs[name].value = (reply && reply[name]) || "";
    inputs.scope.value = reply ? reply.scope : inputs.scope.options[0].value;
    cancel.hidden = !reply;
    showTeamField();
    if (reply) inputs.shortcut.focus();
  }

  function renderCategories() {
    const current = category.value;
    const cats = categoriesOf(replies);
    clear(category).append(el("option", { value: "", text: t("canned.all_categories") }));
    for (const c of cats) category.append(el("option", { value: c, text: c }));
    category.value = cats.includes(current) ? current : "";
    clear(categoryList);
    for (const c of cats) categoryList.append(el("option", { value: c }));
    clear(teamList);
    for (const id of [...new Set(replies.map((r) => r.team_id).filter(Boolean))].sort()) teamList.append(el("option", { value: id }));
  }

  function renderTable() {
    clear(table);
    const hits = searchCanned(replies, search.value, category.value);
    empty.hidden = hits.length > 0;
    empty.textContent = replies.length ? t("canned.no_match") : t("canned.none");
    for (const r of hits) {
      const actions = el("td", { class: "actions" });
      if (r.editable) {
        actions.append(
          el("button", { type: "button", class: "btn btn-sm", text: t("admin.edit"), "aria-label": t("canned.edit_named", { shortcut: r.shortcut }), onclick: () => startEdit(r) }),
          " ",
          el("button", { type: "button", class: "btn btn-sm btn-danger-ghost", text: t("admin.delete"), "aria-label": t("canned.delete_named", { shortcut: r.shortcut }), onclick: () => remove(r) }));
      }
      const text = r.text.length > TEXT_PREVIEW_CHARS ? `${r.text.slice(0, TEXT_PREVIEW_CHARS)}…` : r.text;
      table.append(el("tr", { dataset: { id: r.id } },
        el("th", { scope: "row", class: "mono", text: `/${r.shortcut}` }),
        el("td", { text: r.title || "" }),
        el("td", { text: r.category || "" }),
        el("td", { text: scopeLabel(r) }),
        el("td", { text, title: r.text }),
        actions));
    }
  }

  async function load() {
    const body = await api("/api/canned?manage=1");
    // Personal replies are their owners' (the agent console); this page keeps the shared ones.
    replies = (body.replies || []).filter((r) => r.scope !== "personal");
    renderCategories();
    renderTable();
  }

  async function remove(reply) {
    if (!window.confirm(t("canned.confirm_delete", { shortcut: reply.shortcut }))) return;
    try {
      await api(`/api/canned/${encodeURIComponent(reply.id)}`, { method: "DELETE" });
      toast(t("canned.deleted", { shortcut: reply.shortcut }), "success");
      if (editing && editing.id === reply.id) startEdit(null);
      await load();
    } catch (exc) {
      toast(cannedErrorText(exc), "error");
    }
  }

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearInvalid();
    const body = {};
    for (const name of ["shortcut", "title", "category", "text", "scope"]) body[name] = inputs[name].value;
    body.team_id = body.scope === "team" ? inputs.team_id.value : null;
    submit.disabled = true;
    try {
      const saved = editing
        ? await api(`/api/canned/${encodeURIComponent(editing.id)}`, { method: "PATCH", body })
        : await api("/api/canned", { method: "POST", body });
      toast(t("canned.saved", { shortcut: saved.shortcut }), "success");
      startEdit(null);
      await load();
    } catch (exc) {
      const name = errorField(exc);
      if (name && inputs[name]) {
        inputs[name].setAttribute("aria-invalid", "true");
        inputs[name].focus();
      }
      showFormError("canned-f-error", cannedErrorText(exc));
    } finally {
      submit.disabled = false;
    }
  });
  cancel.addEventListener("click", () => startEdit(null));
  search.addEventListener("input", renderTable);
  category.addEventListener("change", renderTable);

  root.append(
    el("p", { class: "muted", text: t(isAdmin ? "canned.admin_intro" : "canned.admin_intro_supervisor") }),
    form,
    el("section", { class: "card", "aria-labelledby": "canned-list-title" },
      el("h2", { class: "section-title", id: "canned-list-title", text: t("canned.list_title") }),
      el("div", { class: "canned-filters" },
        field("canned-admin-search", "canned.search", search),
        field("canned-admin-category", "canned.category", category)),
      el("div", { class: "table-wrap" },
        el("table", { class: "table", id: "canned-table" },
          el("thead", {}, el("tr", {},
            ...["canned.shortcut", "canned.title", "canned.category", "canned.scope", "canned.text"].map((k) => el("th", { scope: "col", text: t(k) })),
            el("th", { scope: "col", class: "actions" }, el("span", { class: "sr-only", text: t("canned.actions") })))),
          table)),
      empty));
  startEdit(null);
  await load();
}
