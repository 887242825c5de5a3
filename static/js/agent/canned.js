// Canned replies in the agent console: the picker dialog (search box, categories, insert, delete
// one's own personal replies), "save as personal reply" from the composer, and the filled-in
// text the composer inserts ({customer}: the session's customer, {agent}: the signed-in agent).
// The "/" list under the composer is the composer's own (agent/composer.js); both use search().
import { t } from "kefu/i18n";
import { api } from "kefu/api";
import { el, clear, toast, openDialog, showFormError, byId as $ } from "kefu/ui";
import { fillPlaceholders, searchCanned, categoriesOf, scopeLabel, errorField, cannedErrorText } from "kefu/canned";

export function createCanned(desk) {
  const { state, user } = desk;

  function sortReplies() {
    state.canned.sort((a, b) => String(a.shortcut).localeCompare(String(b.shortcut)));
  }

  function fill(reply) {
    const entry = state.active && state.sessions.get(state.active);
    const session = entry ? entry.session : {};
    const who = state.profiles.of(session.customer, session.openid);
    return fillPlaceholders(reply.text, { customer: who && who.nickname, agent: user.name || user.username });
  }

  // -- the picker ---------------------------------------------------------------------------------
  function renderCategories() {
    const sel = $("canned-category");
    const current = sel.value;
    clear(sel).append(el("option", { value: "", text: t("canned.all_categories") }));
    for (const c of categoriesOf(state.canned)) sel.append(el("option", { value: c, text: c }));
    sel.value = categoriesOf(state.canned).includes(current) ? current : "";
  }

  function renderResults() {
    const list = clear($("canned-results"));
    const hits = searchCanned(state.canned, $("canned-search").value, $("canned-category").value);
    $("canned-results-empty").textContent = state.canned.length ? t("canned.no_match") : t("canned.none");
    $("canned-results-empty").hidden = hits.length > 0;
    for (const r of hits) {
      const insert = el("button", { type: "button", class: "btn btn-primary btn-sm", text: t("canned.insert"),
        "aria-label": t("canned.insert_named", { shortcut: r.shortcut }) });
      insert.addEventListener("click", () => {
        $("canned-dialog").close();
        desk.composer.insert(fill(r));
      });
      const actions = el("div", { class: "canned-result-actions" }, insert);
      if (r.editable && r.scope === "personal") {
        const del = el("button", { type: "button", class: "btn btn-danger-ghost btn-sm", text: t("admin.delete"),
          "aria-label": t("canned.delete_named", { shortcut: r.shortcut }) });
        del.addEventListener("click", () => remove(r));
        actions.append(del);
      }
      list.append(el("li", { class: "canned-result", dataset: { id: r.id } },
        el("div", { class: "canned-result-main" },
          el("div", { class: "canned-result-head" },
            el("span", { class: "canned-shortcut mono", text: `/${r.shortcut}` }),
            r.title ? el("strong", { text: r.title }) : null,
            r.category ? el("span", { class: "chip chip-muted", text: r.category }) : null,
            el("span", { class: "chip", text: scopeLabel(r) })),
          el("p", { class: "canned-result-text", text: r.text })),
        actions));
    }
  }

  async function remove(reply) {
    if (!window.confirm(t("canned.confirm_delete", { shortcut: reply.shortcut }))) return;
    try {
      await api(`/api/canned/${encodeURIComponent(reply.id)}`, { method: "DELETE" });
      state.canned = state.canned.filter((r) => r.id !== reply.id);
      toast(t("canned.deleted", { shortcut: reply.shortcut }), "success");
      renderCategories();
      renderResults();
    } catch (exc) {
      toast(cannedErrorText(exc), "error");
    }
  }

  function openPicker(query = "") {
    $("canned-search").value = query;
    renderCategories();
    renderResults();
    openDialog($("canned-dialog"), { focus: $("canned-search") });
  }

  $("canned-open").addEventListener("click", () => openPicker());
  $("canned-search").addEventListener("input", renderResults);
  $("canned-category").addEventListener("change", renderResults);

  // -- save as personal reply ---------------------------------------------------------------------
  const saveFields = { shortcut: "canned-save-shortcut", title: "canned-save-name", category: "canned-save-category", text: "canned-save-text" };

  function openSave() {
    for (const id of Object.values(saveFields)) {
      $(id).value = "";
      $(id).removeAttribute("aria-invalid");
    }
    $("canned-save-text").value = $("composer-input").value.trim();
    const list = clear($("canned-save-categories"));
    for (const c of categoriesOf(state.canned)) list.append(el("option", { value: c }));
    showFormError("canned-save-error", "");
    openDialog($("canned-save-dialog"), { focus: $("canned-save-shortcut") });
  }

  $("canned-save").addEventListener("click", openSave);
  for (const id of Object.values(saveFields)) $(id).addEventListener("input", () => $(id).removeAttribute("aria-invalid"));
  $("canned-save-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const body = { scope: "personal" };
    for (const [name, id] of Object.entries(saveFields)) {
      body[name] = $(id).value;
      $(id).removeAttribute("aria-invalid");
    }
    const submit = $("canned-save-submit");
    submit.disabled = true;
    try {
      const reply = await api("/api/canned", { method: "POST", body });
      state.canned = [...state.canned.filter((r) => r.id !== reply.id), reply];
      sortReplies();
      $("canned-save-dialog").close();
      toast(t("canned.saved", { shortcut: reply.shortcut }), "success");
    } catch (exc) {
      const field = errorField(exc);
      if (field && saveFields[field]) {
        $(saveFields[field]).setAttribute("aria-invalid", "true");
        $(saveFields[field]).focus();
      }
      showFormError("canned-save-error", cannedErrorText(exc));
    } finally {
      submit.disabled = false;
    }
  });

  return {
    fill,
    search: (query) => searchCanned(state.canned, query),
    openPicker,
    set(replies) {
      state.canned = [...replies];
      sortReplies();
    },
  };
}
