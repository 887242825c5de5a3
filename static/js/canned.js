// Canned replies (快捷回复) as both consoles see them: filling the placeholders, matching a search,
// the scope's words and what a refused save says (with the field it names). The agent console's
// picker and save dialog are in agent/canned.js, the admin page in admin/canned.js.
import { t } from "kefu/i18n";
import { ApiError } from "kefu/api";

export const SHORTCUT_MAX_CHARS = 32;
export const TEXT_MAX_CHARS = 2000;
const FIELDS = ["shortcut", "title", "text", "category", "scope", "team_id"];

/** The reply's text with {customer} and {agent} filled in (other braces are left as written). */
export function fillPlaceholders(text, { customer, agent } = {}) {
  const values = { customer: customer || t("canned.customer_fallback"), agent: agent || "" };
  return String(text || "").replace(/\{(customer|agent)\}/g, (_, name) => values[name]);
}

/** Replies matching a search (shortcut, title, text or category, any case) in a category ("" all);
 * shortcuts that begin with the search come first. */
export function searchCanned(replies, query = "", category = "") {
  const q = String(query || "").trim().replace(/^\//, "").toLowerCase();
  const hits = replies.filter((r) => (!category || (r.category || "") === category)
    && (!q || [r.shortcut, r.title, r.text, r.category].some((v) => String(v || "").toLowerCase().includes(q))));
  const starts = (r) => (String(r.shortcut || "").toLowerCase().startsWith(q) ? 0 : 1);
  return hits.map((r, i) => [starts(r), i, r]).sort((a, b) => a[0] - b[0] || a[1] - b[1]).map((x) => x[2]);
}

/** The categories in use, sorted. */
export function categoriesOf(replies) {
  return [...new Set(replies.map((r) => r.category || "").filter(Boolean))].sort((a, b) => a.localeCompare(b));
}

export function scopeLabel(reply) {
  if (reply.scope === "team") return t("canned.scope_team_named", { team: reply.team_id || "" });
  return t(`canned.scope_${reply.scope}`);
}

/** The field a refused save names ("shortcut: …" → "shortcut"), or null. */
export function errorField(exc) {
  if (!(exc instanceof ApiError) || !["bad_field", "exists"].includes(exc.code)) return null;
  const name = String(exc.message || "").split(":")[0];
  return FIELDS.includes(name) ? name : null;
}

/** What a refused save says, in the console's language where the field is known. */
export function cannedErrorText(exc) {
  const field = errorField(exc);
  if (exc instanceof ApiError && exc.code === "exists") return t("canned.exists");
  if (field) return t(`canned.bad_${field}`);
  if (exc instanceof ApiError && exc.code === "forbidden") return t("canned.forbidden");
  return (exc && exc.message) || String(exc);
}
