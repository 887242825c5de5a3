// Teams (组织机构): a name, its supervisors and its members. A supervisor in a team sees and acts
// only on its members and the sessions they hold; one in no team sees everyone. Over /api/teams;
// a change counts at once on every supervisor's wall.
import { api } from "kefu/api";
import { t } from "kefu/i18n";
import { el, clear, toast } from "kefu/ui";

export async function render(root) {
  let users = [];
  let teams = [];
  let editing = null;

  const error = el("p", { id: "team-form-error", class: "banner banner-warn", role: "alert", hidden: true });
  const title = el("h2", { class: "section-title", id: "team-form-title" });
  const name = el("input", { id: "team-name", name: "name", autocomplete: "off", required: true });
  const supervisors = el("div", { class: "checks", id: "team-supervisors" });
  const members = el("div", { class: "checks", id: "team-members" });
  const form = el("form", { class: "card admin-form", id: "team-form", "aria-labelledby": "team-form-title", novalidate: true },
    el("div", { class: "field", dataset: { field: "name" } }, el("label", { for: "team-name", text: t("admin.teams.name") }), name),
    el("fieldset", { class: "field", dataset: { field: "supervisors" } }, el("legend", { text: t("admin.teams.supervisors") }), supervisors),
    el("fieldset", { class: "field", dataset: { field: "members" } }, el("legend", { text: t("admin.teams.members") }), members),
    el("div", { class: "admin-actions" },
      el("button", { type: "submit", class: "btn btn-primary", id: "team-save", text: t("admin.save") }),
      el("button", { type: "button", class: "btn btn-ghost", id: "team-new", text: t("admin.teams.new"), onclick: () => edit(null) })),
    error);
  const tbody = el("tbody");
  root.append(el("p", { class: "muted", text: t("admin.teams.intro") }), title, form,
    el("div", { class: "card table-wrap" }, el("table", { class: "table", id: "teams-table" },
      el("caption", { class: "sr-only", text: t("admin.nav.teams") }),
      el("thead", {}, el("tr", {}, ...["name", "supervisors", "members"].map((k) => el("th", { scope: "col", text: t(`admin.teams.${k}`) })),
        el("th", { scope: "col" }, el("span", { class: "sr-only", text: t("admin.edit") })))),
      tbody)));

  const nameOf = (id) => {
    const u = users.find((x) => x.id === id);
    return u ? u.name || u.username : id;
  };

  function boxes(container, role, chosen, key) {
    clear(container);
    const people = users.filter((u) => u.roles.includes(role) && !u.disabled);
    if (!people.length) container.append(el("span", { class: "muted small", text: t("admin.teams.nobody") }));
    for (const u of people) {
      container.append(el("label", { class: "check" },
        el("input", { type: "checkbox", name: key, value: u.id, checked: chosen.includes(u.id) }), " ",
        `${u.name || u.username} (${u.username})`));
    }
  }

  function chosen(container) {
    return [...container.querySelectorAll("input:checked")].map((i) => i.value);
  }

  function showError(message) {
    for (const node of form.querySelectorAll("[aria-invalid]")) node.removeAttribute("aria-invalid");
    error.hidden = !message;
    error.textContent = message ? t("admin.save_failed", { reason: message }) : "";
    if (message && /^name:|exists/.test(message)) {
      name.setAttribute("aria-invalid", "true");
      name.focus();
    }
  }

  function edit(team) {
    editing = team;
    showError(null);
    title.textContent = team ? t("admin.teams.editing", { name: team.name }) : t("admin.teams.new");
    name.value = team ? team.name : "";
    boxes(supervisors, "supervisor", team ? team.supervisors : [], "supervisors");
    boxes(members, "agent", team ? team.members : [], "members");
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = { name: name.value, supervisors: chosen(supervisors), members: chosen(members) };
    try {
      const saved = editing
        ? await api(`/api/teams/${encodeURIComponent(editing.id)}`, { method: "PATCH", body })
        : await api("/api/teams", { method: "POST", body });
      toast(t("admin.teams.saved", { name: saved.name }), "success");
      await reload();
      edit(teams.find((tm) => tm.id === saved.id) || null);
    } catch (exc) {
      showError(exc.message || String(exc));
    }
  });

  async function remove(team) {
    if (!window.confirm(t("admin.teams.confirm_delete", { name: team.name }))) return;
    try {
      await api(`/api/teams/${encodeURIComponent(team.id)}`, { method: "DELETE" });
      toast(t("admin.teams.deleted", { name: team.name }), "success");
      await reload();
      edit(null);
    } catch (exc) {
      toast(t("admin.save_failed", { reason: exc.message || String(exc) }), "error");
    }
  }

  function paint() {
    clear(tbody);
    for (const tm of teams) {
      tbody.append(el("tr", { dataset: { team: tm.name } },
        el("th", { scope: "row", text: tm.name }),
        el("td", { text: tm.supervisors.map(nameOf).join(", ") }),
        el("td", { text: tm.members.map(nameOf).join(", ") }),
        el("td", { class: "actions" },
          el("button", { type: "button", class: "btn btn-ghost btn-sm", text: t("admin.edit"),
            "aria-label": t("admin.teams.edit_named", { name: tm.name }), onclick: () => { edit(tm); name.focus(); } }),
          el("button", { type: "button", class: "btn btn-ghost btn-sm", text: t("admin.delete"),
            "aria-label": t("admin.teams.delete_named", { name: tm.name }), onclick: () => remove(tm) }))));
    }
    if (!teams.length) tbody.append(el("tr", {}, el("td", { colspan: "4", class: "muted", text: t("admin.teams.none") })));
  }

  async function reload() {
    const [u, tm] = await Promise.all([api("/api/users"), api("/api/teams")]);
    users = u.users;
    teams = tm.teams;
    paint();
  }

  // The form is there at once but takes input only once the first load has filled it: edit(null)
  // resets the fields, and would wipe what a quick hand typed before the users arrived.
  name.disabled = true;
  await reload();
  edit(null);
  name.disabled = false;
}
