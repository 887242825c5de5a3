// QA (质检) pieces several pages show: a review as a card (total, pass or fail, each criterion's
// score against its maximum, the comment, the agent's answer and QA's resolution), the reasons a
// session is in the work queue, and a transcript download (the token goes in a header, so the
// file is fetched and handed to the browser as a blob).
import { auth, ApiError } from "kefu/api";
import { t } from "kefu/i18n";
import { el, fmtDateTime } from "kefu/ui";

/** A total (0–100) as people read it: one decimal at most. */
export function fmtTotal(total) {
  return typeof total === "number" ? String(Math.round(total * 10) / 10) : "—";
}

export function verdict(review) {
  return el("span", { class: `chip ${review.passed ? "chip-pass" : "chip-fail"}`, text: t(review.passed ? "qa.passed" : "qa.failed") });
}

export function statusChip(status) {
  return el("span", { class: `chip chip-status-${status}`, text: t(`qa.status.${status}`) });
}

export function reasonChips(reasons) {
  return (reasons || []).map((r) => el("span", { class: "chip chip-muted", text: t(`qa.reason.${r}`) }));
}

/** A review as a card; ``actions`` (nodes) go at its foot. */
export function reviewCard(review, { actions = [], showAgent = true } = {}) {
  const scores = el("dl", { class: "qa-scores" });
  for (const c of review.criteria || []) {
    scores.append(el("dt", { text: c.label }), el("dd", { text: t("qa.score_of", { value: review.scores[c.key], max: c.max, weight: c.weight }) }));
  }
  const head = el("div", { class: "qa-review-head" },
    el("span", { class: "qa-total", text: t("qa.total", { total: fmtTotal(review.total) }) }), verdict(review), statusChip(review.status),
    el("span", { class: "muted small", text: t("qa.review_meta", {
      rubric: review.rubric_name, version: review.rubric_version, who: review.reviewer_name || review.reviewer_id || "—",
      when: fmtDateTime(review.created_at) }) }));
  const card = el("article", { class: "card qa-review", dataset: { reviewId: review.id, status: review.status } }, head);
  if (showAgent) card.append(el("p", { class: "small", text: t("qa.review_agent", { agent: review.agent_name || review.agent_id || "—" }) }));
  card.append(scores);
  if (review.comment) card.append(el("p", { class: "qa-comment", text: review.comment }));
  if (review.response) {
    card.append(el("p", { class: "qa-note small" }, el("strong", { text: t(`qa.response.${review.status === "resolved" ? "disputed" : review.status}`) }), " ",
      review.response.note || t("qa.no_note")));
  }
  if (review.resolution) card.append(el("p", { class: "qa-note small" }, el("strong", { text: t("qa.resolution") }), " ", review.resolution.note));
  if (actions.length) card.append(el("div", { class: "admin-actions" }, ...actions));
  return card;
}

/** Fetch GET /api/sessions/{id}/export in ``format`` and save it as the server names it. */
export async function downloadTranscript(sessionId, format) {
  const tz = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  const res = await fetch(`/api/sessions/${encodeURIComponent(sessionId)}/export?format=${format}&tz=${encodeURIComponent(tz)}`, {
    headers: { Authorization: `Bearer ${auth.token}` }, cache: "no-store" });
  if (!res.ok) {
    let err = {};
    try { err = (await res.json()).error || {}; } catch { /* not JSON */ }
    throw new ApiError(res.status, err.code || String(res.status), err.message || res.statusText);
  }
  const name = /filename="([^"]+)"/.exec(res.headers.get("Content-Disposition") || "");
  const url = URL.createObjectURL(await res.blob());
  const a = el("a", { href: url, download: name ? name[1] : `transcript-${sessionId}.${format}`, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** The export buttons of one transcript. */
export function exportButtons(sessionId, onError) {
  return ["txt", "csv", "xlsx"].map((format) => el("button", {
    type: "button", class: "btn btn-sm", dataset: { export: format }, text: t(`qa.export_${format}`),
    onclick: () => downloadTranscript(sessionId, format).catch(onError) }));
}
