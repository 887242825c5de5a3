// Users (用户): create, edit, disable/enable, reset a password; roles, skills with levels 1–5,
// capacity and team. Over /api/users and /api/teams; the server validates every field and names
// the one it refuses, and a change reaches the routing engine at once (no restart, no re-login).
import { api } from "kefu/api";
import { t } from "kefu/i18n";
import { el, clear, toast } from "kefu/ui";

const ROLES = ["agent", "supervisor", "admin", "qa", "integration"];

function skillsText(skills) {
  return (skills || []).map((s) => `${s.name}:${s.level}`).join(", ");
}

// "general:5, loans:3" -> [{name, level}]; a level left out is 3. What does not parse is sent as
// it is written, so the server's message (which names the field) is the one the user reads.
function parseSkills(text) {
  return text.split(/[,，\s]+/).filter(Boolean).map((part) => {
    const [name, level] = part.split(/[:：]/);
    if (level === undefined) return { name, level: 3 };
    const n = Number(level);
    return { name, level: Number.isInteger(n) ? n : level };
  });
}

function fieldOf(message) {
  const m = /^([a-z_]+):/.exec(message || "");
  return m ? m[1] : null;
}

export async function render(root, { user: me }) {
  let users = [];
  let teams = [];
  let editing = null; // the user being edited, or null for a new one

  const error = el("p", { id: "user-form-error", class: "banner banner-warn", role: "alert", hidden: true });
  const title = el("h2", { class: "section-title", id: "user-form-title" });
  const inputs = {
    username: el("input", { id: "user-username", name: "username", autocomplete: "off", required: true }),
    name: el("input", { id: "user-name", name: "name", autocomplete: "off" }),
    password: el("input", { id: "user-password", name: "password", type: "password", autocomplete: "new-password" }),
    skills: el("input", { id: "user-skills", name: "skills", autocomplete: "off", placeholder: "general:5, loans:3", "aria-describedby": "user-skills-hint" }),
    max_sessions: el("input", { id: "user-max-sessions", name: "max_sessions", type: "number", min: "1", max: "20", value: "3" }),
    team: el("select", { id: "user-team", name: "team" }),
    disabled: el("input", { id: "user-disabled", name: "disabled", type: "checkbox" }),
  };
  const roleBoxes = new Map(ROLES.map((r) => [r, el("input", { type: "checkbox", id: `user-role-${r}`, name: "roles", value: r })]));
  const field = (key, labelKey, input, hint) => el("div", { class: "field", dataset: { field: key } },
    el("label", { for: input.id, text: t(labelKey) }), input,
    hint ? el("span", { id: `${input.id}-hint`, class: "muted small", text: t(hint) }) : null);
  const passwordLabel = el("label", { for: "user-password" });
  const form = el("form", { class: "card admin-form", id: "user-form", "aria-labelledby": "user-form-title", novalidate: true },
    field("username", "admin.users.username", inputs.username),
    field("name", "admin.users.name", inputs.name),
    el("div", { class: "field", dataset: { field: "password" } }, passwordLabel, inputs.password),
    el("fieldset", { class: "field", dataset: { field: "roles" } }, el("legend", { text: t("admin.users.roles") }),
      ...ROLES.map((r) => el("label", { class: "check" }, roleBoxes.get(r), " ", t(`admin.role.${r}`)))),
    field("skills", "admin.users.skills", inputs.skills, "admin.users.skills_hint"),
    field("max_sessions", "admin.users.max_sessions", inputs.max_sessions),
    field("team", "admin.users.team", inputs.team),
    el("div", { class: "field", dataset: { field: "disabled" } },
      el("label", { class: "check" }, inputs.disabled, " ", t("admin.users.disabled"))),
    el("div", { class: "admin-actions" },
      el("button", { type: "submit", class: "btn btn-primary", id: "user-save", text: t("admin.save") }),
      el("button", { type: "button", class: "btn btn-ghost", id: "user-new", text: t("admin.users.new"), onclick: () => edit(null) })),
    error);
  const tbody = el("tbody");
  const table = el("div", { class: "card table-wrap" }, el("table", { class: "table", id: "users-table" },
    el("caption", { class: "sr-only", text: t("admin.nav.users") }),
    el("thead", {}, el("tr", {}, ...["username", "name", "roles", "skills", "max_sessions", "team", "status"].map((k) =>
      el("th", { scope: "col", text: t(`admin.users.${k}`) })), el("th", { scope: "col" }, el("span", { class: "sr-only", text: t("admin.edit") })))),
    tbody));
  root.append(el("p", { class: "muted", text: t("admin.users.intro") }), title, form, table);

  const teamOf = (id) => teams.find((tm) => tm.members.includes(id));

  function showError(message) {
    for (const node of form.querySelectorAll("[aria-invalid]")) node.removeAttribute("aria-invalid");
    error.hidden = !message;
    error.textContent = message ? t("admin.save_failed", { reason: message }) : "";
    const name = fieldOf(message);
    const box = name && form.querySelector(`[data-field="${name}"]`);
    if (box) {
      const input = box.querySelector("input, select");
      if (input) {
        input.setAttribute("aria-invalid", "true");
        input.focus();
      }
    }
  }

  function edit(user) {
    editing = user;
    showError(null);
    title.textContent = user ? t("admin.users.editing", { name: user.username }) : t("admin.users.new");
    inputs.username.value = user ? user.username : "";
    inputs.username.disabled = Boolean(user);
    inputs.name.value = user ? user.name || "" : "";
    inputs.password.value = "";
    inputs.password.required = !user;
    passwordLabel.textContent = t(user ? "admin.users.reset_password" : "admin.users.password");
    for (const [r, box] of roleBoxes) box.checked = user ? user.roles.includes(r) : r === "agent";
    inputs.skills.value = user ? skillsText(user.skills) : "";
    inputs.max_sessions.value = String(user ? user.max_sessions : 3);
    clear(inputs.team).append(el("option", { value: "", text: t("admin.users.no_team") }),
      ...teams.map((tm) => el("option", { value: tm.id, text: tm.name })));
    inputs.team.value = (user && teamOf(user.id) && teamOf(user.id).id) || "";
    inputs.disabled.checked = Boolean(user && user.disabled);
    inputs.disabled.closest(".field").hidden = !user;
  }

  // Membership lives on the team: move the user into the chosen one, then out of the others.
  async function setTeam(userId, teamId) {
    const target = teams.find((tm) => tm.id === teamId);
    if (target && !target.members.includes(userId)) {
      await api(`/api/teams/${encodeURIComponent(target.id)}`, { method: "PATCH", body: { members: [...target.members, userId] } });
    }
    for (const tm of teams) {
      if (tm.id !== teamId && tm.members.includes(userId)) {
        await api(`/api/teams/${encodeURIComponent(tm.id)}`, { method: "PATCH", body: { members: tm.members.filter((m) => m !== userId) } });
      }
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = {
      name: inputs.name.value.trim() || null,
      roles: ROLES.filter((r) => roleBoxes.get(r).checked),
      skills: parseSkills(inputs.skills.value),
      max_sessions: Number(inputs.max_sessions.value),
    };
    if (!Number.isInteger(body.max_sessions)) body.max_sessions = inputs.max_sessions.value;
    if (inputs.password.value) body.password = inputs.password.value;
    const save = form.querySelector("#user-save");
    save.disabled = true;
    save.textContent = t("admin.saving");
    try {
      let saved;
      if (editing) {
        if (body.name === null) delete body.name;
        if (inputs.disabled.checked !== editing.disabled) body.disabled = inputs.disabled.checked;
        saved = await api(`/api/users/${encodeURIComponent(editing.id)}`, { method: "PATCH", body });
      } else {
        body.username = inputs.username.value.trim();
        if (body.name === null) delete body.name;
        saved = await api("/api/users", { method: "POST", body });
      }
      const current = teamOf(saved.id);
      if ((current ? current.id : "") !== inputs.team.value) await setTeam(saved.id, inputs.team.value);
      toast(t("admin.users.saved", { name: saved.username }), "success");
      await reload();
      edit(users.find((u) => u.id === saved.id) || null);
    } catch (exc) {
      showError(exc.message || String(exc));
    } finally {
      save.disabled = false;
      save.textContent = t("admin.save");
    }
  });

  function paint() {
    clear(tbody);
    for (const u of users) {
      const team = teamOf(u.id);
      tbody.append(el("tr", { dataset: { user: u.username }, class: editing && editing.id === u.id ? "is-selected" : null },
        el("th", { scope: "row", text: u.username }),
        el("td", { text: u.name || "" }),
        el("td", { text: u.roles.map((r) => t(`admin.role.${r}`)).join(", ") }),
        el("td", { text: skillsText(u.skills) }),
        el("td", { text: String(u.max_sessions) }),
        el("td", { text: team ? team.name : "" }),
        el("td", { text: t(u.disabled ? "admin.users.status_disabled" : "admin.users.status_active") }),
        el("td", { class: "actions" }, el("button", {
          type: "button", class: "btn btn-ghost btn-sm", text: t("admin.edit"),
          "aria-label": t("admin.users.edit_named", { name: u.username }),
          onclick: () => { edit(u); paint(); inputs.name.focus(); },
        }))));
    }
  }

  async function reload() {
    const [u, tm] = await Promise.all([api("/api/users"), api("/api/teams")]);
    users = u.users;
    teams = tm.teams;
    paint();
  }

  // Takes input only once the first load has filled the form: edit(null) resets the fields and
  // would wipe what a quick hand typed before the users and teams arrived.
  inputs.username.disabled = true;
  await reload();
  edit(null);
  inputs.username.disabled = false;
  void me;
}
