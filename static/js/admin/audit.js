// The admin console's audit log section (审计日志): every change and sensitive read, newest first,
// filtered by actor, action, target, session and a date range, a page at a time. The filters are
// kept in the address (#/audit?action=…) so a filtered view can be bookmarked or sent on.
import { api } from "kefu/api";
import { t } from "kefu/i18n";
import { el, clear } from "kefu/ui";

const PAGE = 50;
// Actions the desk writes today; the field takes any other too.
const KNOWN_ACTIONS = ["setting_changed", "menu_published", "menu_publish_failed", "user.create", "user.update",
  "monitor", "whisper", "barge", "reassign", "set_presence", "explain", "read_refused"];
const FILTERS = ["actor_id", "action", "target", "session_id", "from", "to"];

function dayStart(value) {
  // A date input's value (YYYY-MM-DD) as local midnight, in epoch seconds.
  const [y, m, d] = value.split("-").map(Number);
  return new Date(y, m - 1, d).getTime() / 1000;
}

function fmtTime(ts) {
  return new Date(ts * 1000).toLocaleString(undefined, { year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

function summary(details) {
  if (!details || typeof details !== "object") return "";
  const text = JSON.stringify(details);
  return text.length > 160 ? `${text.slice(0, 157)}…` : text;
}

export async function render(root) {
  const users = await api("/api/users").then((d) => d.users || []).catch(() => []);
  const names = new Map(users.map((u) => [u.id, u.name || u.username]));
  const params = new URLSearchParams(location.hash.split("?")[1] || "");
  let offset = Math.max(0, Number(params.get("offset")) || 0);

  const input = (name, props = {}) => el("input", { id: `audit-${name}`, name, value: params.get(name) || "", autocomplete: "off", ...props });
  const actor = el("select", { id: "audit-actor_id", name: "actor_id" }, el("option", { value: "", text: t("admin.audit.anyone") }),
    users.map((u) => el("option", { value: u.id, text: `${u.name || u.username} (${u.username})` })));
  actor.value = params.get("actor_id") || "";
  const field = (name, control) => el("div", { class: "field" }, el("label", { for: `audit-${name}`, text: t(`admin.audit.${name}`) }), control);
  const form = el("form", { class: "admin-form card", id: "audit-filters", role: "search", "aria-label": t("admin.audit.filters") },
    field("actor_id", actor),
    field("action", input("action", { list: "audit-actions" })),
    field("target", input("target")),
    field("session_id", input("session_id")),
    field("from", input("from", { type: "date" })),
    field("to", input("to", { type: "date" })),
    el("div", { class: "admin-actions" },
      el("button", { type: "submit", class: "btn btn-primary", text: t("admin.audit.apply") }),
      el("button", { type: "reset", class: "btn btn-ghost", text: t("admin.audit.clear") })));
  const datalist = el("datalist", { id: "audit-actions" }, KNOWN_ACTIONS.map((a) => el("option", { value: a })));

  const body = el("tbody");
  const table = el("table", { class: "table", id: "audit-table" },
    el("caption", { class: "sr-only", text: t("admin.nav.audit") }),
    el("thead", {}, el("tr", {}, ["time", "actor", "action", "target", "details"].map((c) => el("th", { scope: "col", text: t(`admin.audit.col_${c}`) })))),
    body);
  const status = el("p", { class: "muted small", id: "audit-status", role: "status" });
  const prev = el("button", { type: "button", class: "btn btn-sm", id: "audit-prev", text: t("admin.audit.prev") });
  const next = el("button", { type: "button", class: "btn btn-sm", id: "audit-next", text: t("admin.audit.next") });
  const error = el("p", { class: "banner banner-warn", role: "alert", id: "audit-error", hidden: true });

  function query() {
    const q = new URLSearchParams();
    const data = new FormData(form);
    for (const name of FILTERS) {
      const value = String(data.get(name) || "").trim();
      if (!value) continue;
      if (name === "from") q.set("since", String(dayStart(value)));
      else if (name === "to") q.set("until", String(dayStart(value) + 86400)); // the whole "to" day
      else q.set(name, value);
    }
    return q;
  }

  function remember() {
    // The address keeps the filters without reloading the section (replaceState fires no hashchange).
    const q = new URLSearchParams();
    const data = new FormData(form);
    for (const name of FILTERS) if (data.get(name)) q.set(name, String(data.get(name)));
    if (offset) q.set("offset", String(offset));
    history.replaceState(null, "", `#/audit${q.toString() ? `?${q}` : ""}`);
  }

  async function load() {
    const q = query();
    q.set("limit", String(PAGE));
    q.set("offset", String(offset));
    error.hidden = true;
    let page;
    try {
      page = await api(`/api/audit?${q}`);
    } catch (exc) {
      error.textContent = t("admin.audit.failed", { reason: exc.message });
      error.hidden = false;
      return;
    }
    clear(body);
    for (const e of page.entries) {
      const target = [e.target, e.session_id && t("admin.audit.session", { id: e.session_id })].filter(Boolean).join(" · ");
      body.append(el("tr", { dataset: { action: e.action } },
        el("td", { text: fmtTime(e.ts) }),
        el("td", { text: e.actor_id ? (names.get(e.actor_id) || e.actor_id) : t("admin.audit.system") }),
        el("td", {}, el("code", { text: e.action })),
        el("td", { text: target }),
        el("td", { class: "small muted", text: summary(e.details) })));
    }
    if (!page.entries.length) body.append(el("tr", {}, el("td", { colspan: "5", class: "muted", text: t("admin.audit.none") })));
    status.textContent = page.entries.length
      ? t("admin.audit.showing", { from: offset + 1, to: offset + page.entries.length })
      : "";
    prev.disabled = offset === 0;
    next.disabled = !page.more;
    remember();
  }

  form.addEventListener("submit", (e) => { e.preventDefault(); offset = 0; load(); });
  form.addEventListener("reset", () => { setTimeout(() => { offset = 0; load(); }, 0); });
  prev.addEventListener("click", () => { offset = Math.max(0, offset - PAGE); load(); });
  next.addEventListener("click", () => { offset += PAGE; load(); });

  root.append(el("p", { class: "muted", text: t("admin.audit.intro") }), datalist, form, error,
    el("div", { class: "card table-wrap" }, table), el("div", { class: "admin-actions" }, prev, next, status));
  await load();
}
