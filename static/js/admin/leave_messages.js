// The admin console's leave-messages section (留言): what customers left when nobody could take
// them, oldest first (GET /api/leave-messages), filtered by status and skill, with each one's age,
// due time and SLA breach, the customer's messages, and "assign to an agent"
// (POST /api/leave-messages/{id}/assign: offered to that agent now, at any hour). Filters live in
// the address (#/leave_messages?status=open&skill=…).
import { api } from "kefu/api";
import { t } from "kefu/i18n";
import { el, clear, fmtDateTime, fmtDuration, skillLabel, toast } from "kefu/ui";

const STATUSES = ["open", "assigned", "closed"];
const PREVIEW_CHARS = 120;

function agentSkills(user) {
  return (user.skills || []).map((s) => (typeof s === "string" ? s : s.name));
}

function preview(item) {
  const text = item.messages.filter((m) => m.direction === "in").map((m) => m.text || `[${m.type}]`).join(" / ");
  return text.length > PREVIEW_CHARS ? `${text.slice(0, PREVIEW_CHARS - 1)}…` : text;
}

// The admin's one setting here (PUT /api/settings/leave_messages): the template message an agent
// may send when WeChat's 48-hour window has closed. Without the notification service it is kept
// and shown as not working yet.
function templateSetting(template, canEdit) {
  const input = el("input", { id: "lm-template-id", name: "template_id", value: template.template_id || "", autocomplete: "off",
    disabled: !canEdit, "aria-describedby": "lm-template-state" });
  const state = el("p", { class: "small muted", id: "lm-template-state",
    text: template.available ? t("admin.lm.template_on") : t(`agent.lm.template_off_${template.reason}`) });
  const save = el("button", { type: "submit", class: "btn btn-sm", text: t("admin.lm.template_save"), disabled: !canEdit });
  const form = el("form", { class: "admin-form card", id: "lm-template-form", "aria-label": t("admin.lm.template_title") },
    el("div", { class: "field" }, el("label", { for: "lm-template-id", text: t("admin.lm.template_title") }), input), state,
    el("div", { class: "admin-actions" }, save));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      await api("/api/settings/leave_messages", { method: "PUT", body: { template_id: input.value.trim() } });
      toast(t("admin.lm.template_saved"), "success");
    } catch (exc) {
      toast(t("admin.lm.template_failed", { reason: exc.message }), "error");
    }
  });
  return form;
}

export async function render(root, ctx = {}) {
  const [users, catalogue] = await Promise.all([
    api("/api/users").then((d) => d.users || []).catch(() => []),
    api("/api/skills").catch(() => ({ skills: [] })),
  ]);
  const skills = catalogue.skills || [];
  const agents = users.filter((u) => (u.roles || []).includes("agent") && !u.disabled);
  const names = new Map(users.map((u) => [u.id, u.name || u.username]));
  const params = new URLSearchParams(location.hash.split("?")[1] || "");

  const status = el("select", { id: "lm-status", name: "status" }, el("option", { value: "", text: t("admin.lm.any") }),
    STATUSES.map((s) => el("option", { value: s, text: t(`admin.lm.status_${s}`) })));
  status.value = params.has("status") ? params.get("status") : "open";
  const skill = el("select", { id: "lm-skill", name: "skill" }, el("option", { value: "", text: t("admin.lm.any") }),
    skills.map((s) => el("option", { value: s.name, text: skillLabel(skills, s.name) })));
  skill.value = params.get("skill") || "";
  const field = (name, control) => el("div", { class: "field" }, el("label", { for: `lm-${name}`, text: t(`admin.lm.${name}`) }), control);
  const form = el("form", { class: "admin-form card", id: "lm-filters", role: "search", "aria-label": t("admin.lm.filters") },
    field("status", status), field("skill", skill),
    el("div", { class: "admin-actions" },
      el("button", { type: "submit", class: "btn btn-primary", text: t("admin.lm.apply") })));

  const summary = el("p", { class: "muted", id: "lm-summary", role: "status" });
  const error = el("p", { class: "banner banner-warn", role: "alert", id: "lm-error", hidden: true });
  const body = el("tbody");
  const table = el("table", { class: "table", id: "lm-table" },
    el("caption", { class: "sr-only", text: t("admin.nav.leave_messages") }),
    el("thead", {}, el("tr", {}, ["customer", "skill", "left", "age", "due", "status", "messages", "assign"]
      .map((c) => el("th", { scope: "col", text: t(`admin.lm.col_${c}`) })))),
    body);
  root.append(el("p", { class: "muted", text: t("admin.lm.intro") }), form, error, summary,
    el("div", { class: "card table-wrap" }, table));

  function assignCell(item) {
    if (item.status === "closed") {
      const outcome = item.outcome ? t(`admin.lm.outcome_${item.outcome}`) : "";
      const callback = item.callback ? ` · ${t("admin.lm.callback", { phone: item.callback.phone, at: item.callback.at || "" })}` : "";
      return el("td", { class: "small", text: outcome + callback });
    }
    const id = `lm-assign-${item.session_id}`;
    const who = item.nickname || item.openid;
    const choice = el("select", { id, "aria-label": t("admin.lm.assign_to", { who }) },
      el("option", { value: "", text: t("admin.lm.choose_agent") }),
      agents.filter((a) => agentSkills(a).includes(item.skill)).map((a) => el("option", { value: a.id, text: a.name || a.username })),
      el("optgroup", { label: t("admin.lm.other_agents") },
        agents.filter((a) => !agentSkills(a).includes(item.skill)).map((a) => el("option", { value: a.id, text: a.name || a.username }))));
    const button = el("button", { type: "button", class: "btn btn-sm", text: t("admin.lm.assign"), dataset: { session: item.session_id } });
    button.addEventListener("click", async () => {
      if (!choice.value) {
        choice.focus();
        return;
      }
      button.disabled = true;
      try {
        await api(`/api/leave-messages/${encodeURIComponent(item.session_id)}/assign`, { method: "POST", body: { to_agent: choice.value } });
        toast(t("admin.lm.assigned", { who, agent: names.get(choice.value) || choice.value }), "success");
        await load();
      } catch (exc) {
        toast(t("admin.lm.assign_failed", { reason: exc.message }), "error");
        button.disabled = false;
      }
    });
    return el("td", {}, el("div", { class: "lm-assign" }, choice, button));
  }

  let templateForm = null;
  async function load() {
    const q = new URLSearchParams();
    if (status.value) q.set("status", status.value);
    if (skill.value) q.set("skill", skill.value);
    history.replaceState(null, "", `#/leave_messages${q.toString() ? `?${q}` : ""}`);
    error.hidden = true;
    let page;
    try {
      page = await api(`/api/leave-messages?${q}`);
    } catch (exc) {
      error.textContent = t("admin.lm.failed", { reason: exc.message });
      error.hidden = false;
      return;
    }
    if (!templateForm) {
      templateForm = templateSetting(page.template, ((ctx.user && ctx.user.roles) || []).includes("admin"));
      root.append(templateForm);
    }
    clear(body);
    const breached = page.items.filter((i) => i.breached).length;
    summary.textContent = t("admin.lm.summary", { n: page.items.length, breached });
    for (const item of page.items) {
      const state = item.status === "assigned"
        ? t("admin.lm.with_agent", { agent: names.get(item.agent_id) || item.agent_id || "" })
        : t(`admin.lm.status_${item.status}`);
      const due = el("td", {}, item.due_at ? fmtDateTime(item.due_at) : t("admin.lm.no_due"));
      if (item.breached) due.append(" ", el("span", { class: "badge badge-breach", text: t("admin.lm.breached") }));
      body.append(el("tr", { dataset: { session: item.session_id, status: item.status }, class: item.breached ? "lm-breached" : "" },
        el("td", {}, el("div", { text: item.nickname || item.openid }), el("div", { class: "small muted", text: item.openid })),
        el("td", { text: skillLabel(skills, item.skill) }),
        el("td", { text: fmtDateTime(item.created_at) }),
        el("td", { text: fmtDuration(item.age_s) }),
        due,
        el("td", { text: state }),
        el("td", { class: "small lm-preview", text: preview(item) }),
        assignCell(item)));
    }
    if (!page.items.length) body.append(el("tr", {}, el("td", { colspan: "8", class: "muted", text: t("admin.lm.none") })));
  }

  form.addEventListener("submit", (e) => { e.preventDefault(); load(); });
  await load();
}
