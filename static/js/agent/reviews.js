// My reviews (我的质检): the QA reviews of this agent's sessions (GET /api/qa/reviews answers an
// agent their own only), each with its total, verdict, scores and comment. A new review is
// acknowledged (a note optional) or disputed (a note required) once, over
// POST /api/qa/reviews/{id}/respond; QA sees the disputes. The topbar button counts the new ones.
import { api } from "kefu/api";
import { t } from "kefu/i18n";
import { el, clear, toast, openDialog, byId as $ } from "kefu/ui";
import { reviewCard } from "kefu/qa_view";

export function createReviews() {
  const button = $("my-reviews-open");
  const count = $("my-reviews-count");
  const list = $("my-reviews-list");
  let reviews = [];

  function paint() {
    const fresh = reviews.filter((r) => r.status === "new").length;
    count.textContent = String(fresh);
    count.hidden = !fresh;
    button.setAttribute("aria-label", t("reviews.open_named", { n: fresh }));
    clear(list);
    for (const r of reviews) {
      const actions = [];
      if (r.status === "new") {
        const id = `review-note-${r.id}`;
        const note = el("input", { id, autocomplete: "off", maxlength: "2000" });
        const error = el("span", { class: "field-error small", role: "alert" });
        const answer = async (action) => {
          error.textContent = "";
          try {
            await api(`/api/qa/reviews/${encodeURIComponent(r.id)}/respond`, { method: "POST", body: { action, note: note.value } });
            toast(t(`reviews.${action}d`), "success");
            await load();
          } catch (exc) {
            error.textContent = exc.message || String(exc);
            note.focus();
          }
        };
        actions.push(el("label", { for: id, class: "small", text: t("reviews.note") }), note,
          el("button", { type: "button", class: "btn btn-primary btn-sm", dataset: { action: "acknowledge" }, text: t("reviews.acknowledge"), onclick: () => answer("acknowledge") }),
          el("button", { type: "button", class: "btn btn-sm", dataset: { action: "dispute" }, text: t("reviews.dispute"), onclick: () => answer("dispute") }), error);
      }
      list.append(reviewCard(r, { actions, showAgent: false }));
    }
    if (!reviews.length) list.append(el("p", { class: "empty", text: t("reviews.none") }));
  }

  async function load() {
    try {
      reviews = (await api("/api/qa/reviews?limit=50")).reviews || [];
    } catch {
      reviews = [];
    }
    paint();
  }

  button.addEventListener("click", async () => {
    await load();
    openDialog($("my-reviews-dialog"), { focus: $("my-reviews-close") });
  });
  load();
  return { load };
}
