// The customer panel: who the customer on screen is (WeChat's profile, the desk's facts, tags and
// note, which the agent edits here: PATCH /api/customers/{openid}), their past sessions, each
// opening read-only in the history dialog, and the template messages they were sent.
import { t } from "kefu/i18n";
import { api } from "kefu/api";
import { el, clear, fmtDateTime, customerName, customerAvatar, skillLabel, openDialog, showFormError, toast, byId as $ } from "kefu/ui";
import { Transcript, MessageView, failureText } from "kefu/messages";
import { wrapupLabel } from "kefu/agent/close";

// A customer's record and past sessions are read again after this long.
const CUSTOMER_FRESH_MS = 30000;
const MAX_HISTORY_SHOWN = 20;

// A notification's state in a word: WeChat's delivery report when it came, else Kefu's status.
const notificationState = (n) => (n.delivery === "success" ? "delivered" : n.delivery && /user block/.test(n.delivery) ? "blocked" : n.status);
const openidOf = (session) => session.openid || (session.customer && session.customer.openid);
// The customer's satisfaction score of a past session (满意度), as "满意度 4/5".
const csatText = (s) => (s && s.csat && s.csat.score ? t("csat.score", { score: s.csat.score }) : null);

export function createCustomerPanel(desk) {
  const { state, user } = desk;

  function addFact(facts, key, value) {
    if (value === undefined || value === null || value === "") return;
    facts.append(el("dt", { text: t(key) }), el("dd", { text: String(value) }));
  }

  // The bank customer bound to this openid (self-service 绑定): a masked profile kept at binding,
  // card and ID numbers to their last four digits only (the server never sends more).
  function renderBank(bank) {
    const dl = $("customer-bank");
    clear(dl);
    if (!bank || !bank.customer_id) {
      dl.append(el("dt", { text: t("bank.status") }), el("dd", { class: "muted", text: t("bank.not_bound") }));
      return;
    }
    addFact(dl, "bank.name", bank.name);
    addFact(dl, "bank.segment", bank.segment);
    addFact(dl, "bank.vip", bank.vip ? (bank.vip_level || t("bank.vip_yes")) : t("bank.vip_no"));
    for (const card of bank.cards || []) {
      dl.append(el("dt", { text: card.product || t(card.kind === "credit" ? "bank.credit_card" : "bank.debit_card") }),
        el("dd", { class: "mono", text: card.number }));
    }
    addFact(dl, "bank.id_number", bank.id_number);
    addFact(dl, "bank.bound_at", bank.bound_at ? fmtDateTime(bank.bound_at) : null);
  }

  function render(session) {
    $("customer-empty").hidden = !!session;
    $("customer").hidden = !session;
    if (!session) return;
    const openid = openidOf(session);
    const info = state.customers.get(openid) || {};
    const c = state.profiles.of({ ...(session.customer || {}), ...(info.customer || {}) }, openid);
    $("customer-avatar").replaceChildren(customerAvatar(c, openid));
    $("customer-name").textContent = customerName(c, openid);
    $("customer-openid").textContent = openid || "";
    const facts = $("customer-facts");
    clear(facts);
    addFact(facts, "customer.skill", skillLabel(state.skills, session.skill));
    addFact(facts, "customer.first_seen", c.first_seen ? fmtDateTime(c.first_seen) : null);
    addFact(facts, "customer.last_seen", c.last_seen ? fmtDateTime(c.last_seen) : null);
    for (const key of ["city", "province", "country", "language"]) addFact(facts, `customer.${key}`, c[key]);
    renderBank(c.bank);
    const tags = $("customer-tags");
    clear(tags);
    const tagList = c.tags || [];
    if (!tagList.length) tags.append(el("li", { class: "muted small", text: t("customer.no_tags") }));
    for (const tag of tagList) tags.append(el("li", { class: "tag", text: typeof tag === "string" ? tag : tag.name || tag.label || "" }));
    const note = $("customer-note");
    note.textContent = c.note || "";
    note.hidden = !c.note;
    if (editing !== openid) closeEditor();
    const hist = $("history");
    clear(hist);
    const past = (info.history || []).filter((h) => String(h.id) !== String(session.id));
    if (!past.length) hist.append(el("li", { class: "muted small", text: info.loading ? t("common.loading") : t("customer.no_history") }));
    renderNotifications(info);
    for (const h of past.slice(0, MAX_HISTORY_SHOWN)) {
      const btn = el("button", { type: "button", class: "history-item" },
        el("span", { class: "history-date", text: fmtDateTime(h.created_at || h.queued_at) }),
        el("span", { class: "history-meta", text: [skillLabel(state.skills, h.skill), h.wrapup ? wrapupLabel(state.wrapups, h.wrapup) : t(`state.${h.state}`)].filter(Boolean).join(" · ") }),
        h.csat && h.csat.score ? el("span", { class: `csat-badge csat-${h.csat.score}`, text: csatText(h), title: h.csat.comment || "" }) : null);
      btn.addEventListener("click", () => openHistory(h.id));
      hist.append(el("li", {}, btn));
    }
  }

  // The template messages (信息推送) the customer was sent: GET /api/notifications?openid=.
  function renderNotifications(info) {
    const list = $("customer-notifications");
    clear(list);
    const items = info.notifications || [];
    if (!items.length) list.append(el("li", { class: "muted small", text: info.loading ? t("common.loading") : t("customer.no_notifications") }));
    for (const n of items.slice(0, MAX_HISTORY_SHOWN)) {
      list.append(el("li", { class: "history-item notification-item", dataset: { status: n.status } },
        el("span", { class: "history-date", text: fmtDateTime(n.created_at) }),
        el("span", { class: "history-meta", text: [n.title || n.template_id, t(`customer.notification_${notificationState(n)}`)].join(" · ") })));
    }
  }

  // -- editing the tags and the note ---------------------------------------------------------
  let editing = null; // the openid whose editor is open

  function closeEditor() {
    editing = null;
    $("customer-form").hidden = true;
    $("customer-edit").hidden = false;
  }

  function current() {
    const entry = desk.sessions.active();
    if (!entry) return null;
    const openid = openidOf(entry.session);
    const info = state.customers.get(openid) || {};
    return { openid, c: { ...(entry.session.customer || {}), ...(info.customer || {}) } };
  }

  $("customer-edit").addEventListener("click", () => {
    const now = current();
    if (!now) return;
    editing = now.openid;
    $("customer-tags-input").value = (now.c.tags || []).join(", ");
    $("customer-note-input").value = now.c.note || "";
    showFormError("customer-error", "");
    $("customer-edit").hidden = true;
    $("customer-form").hidden = false;
    $("customer-tags-input").focus();
  });
  $("customer-cancel").addEventListener("click", () => {
    closeEditor();
    $("customer-edit").focus();
  });
  $("customer-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const openid = editing;
    if (!openid) return;
    const tags = $("customer-tags-input").value.split(/[,，、]/).map((x) => x.trim()).filter(Boolean);
    const body = { tags, note: $("customer-note-input").value };
    const save = $("customer-save");
    save.disabled = true;
    try {
      const record = await api(`/api/customers/${encodeURIComponent(openid)}`, { method: "PATCH", body });
      const info = state.customers.get(openid) || {};
      state.customers.set(openid, { ...info, customer: { ...(info.customer || {}), ...record } });
      closeEditor();
      toast(t("customer.saved"), "success");
      const entry = desk.sessions.active();
      if (entry) render(entry.session);
      $("customer-edit").focus();
    } catch (exc) {
      // The server names the field (tags[2], note): say which, in the reader's words.
      const field = /^(tags|note)/.exec((exc && exc.message) || "");
      const where = field ? t(field[1] === "note" ? "customer.note" : "customer.tags") : "";
      showFormError("customer-error", t("customer.save_failed", { field: where, reason: failureText(exc) }));
      (field && field[1] === "note" ? $("customer-note-input") : $("customer-tags-input")).focus();
    } finally {
      save.disabled = false;
    }
  });

  async function load(session) {
    const openid = openidOf(session);
    if (!openid) return;
    const cached = state.customers.get(openid) || {};
    if (cached.fetchedAt && Date.now() - cached.fetchedAt < CUSTOMER_FRESH_MS) return;
    state.customers.set(openid, { ...cached, loading: true, fetchedAt: Date.now() });
    const enc = encodeURIComponent(openid);
    const [customer, sessions, notifications] = await Promise.allSettled([api(`/api/customers/${enc}`), api(`/api/customers/${enc}/sessions`),
      api(`/api/notifications?openid=${enc}&limit=${MAX_HISTORY_SHOWN}`)]);
    const next = { ...state.customers.get(openid), loading: false };
    if (customer.status === "fulfilled" && customer.value) next.customer = customer.value.customer || customer.value;
    if (sessions.status === "fulfilled" && sessions.value) next.history = sessions.value.sessions || [];
    if (notifications.status === "fulfilled" && notifications.value) next.notifications = notifications.value.notifications || [];
    state.customers.set(openid, next);
    const entry = desk.sessions.active();
    if (entry && openidOf(entry.session) === openid) render(entry.session);
  }

  // A past session, read-only: one REST read of its record and transcript.
  async function openHistory(id) {
    const dialog = $("history-dialog");
    const list = $("history-messages");
    list.replaceChildren(el("li", { class: "muted", text: t("common.loading") }));
    $("history-meta").textContent = "";
    openDialog(dialog);
    try {
      const data = await api(`/api/sessions/${encodeURIComponent(id)}`);
      const s = data.session || {};
      $("history-meta").textContent = [s.openid ? state.profiles.nameOf(s.customer, s.openid) : null, fmtDateTime(s.created_at), skillLabel(state.skills, s.skill), s.wrapup ? wrapupLabel(state.wrapups, s.wrapup) : null, s.note, csatText(s),
        s.csat && s.csat.comment ? t("csat.comment", { comment: s.csat.comment }) : null].filter(Boolean).join(" · ");
      const hv = new MessageView(list, { me: user.id, names: desk.agentName });
      hv.show(new Transcript(data.messages || []));
      if (!(data.messages || []).length) list.append(el("li", { class: "muted", text: t("history.empty") }));
    } catch (exc) {
      list.replaceChildren(el("li", { class: "form-error", text: t("history.failed", { reason: failureText(exc) }) }));
    }
  }

  // A score arrived for one of my sessions: the history that lists it shows it at once.
  desk.socket.on("event:csat", (d) => {
    let changed = false;
    for (const info of state.customers.values()) {
      for (const h of info.history || []) {
        if (String(h.id) === String(d.session_id)) {
          h.csat = { score: d.score, at: d.at, comment: d.comment, agent_id: d.agent_id };
          changed = true;
        }
      }
    }
    const entry = desk.sessions.active();
    if (changed && entry) render(entry.session);
  });

  /** Read the customer again now (something new happened to them), not after CUSTOMER_FRESH_MS. */
  function refresh(session) {
    const openid = openidOf(session);
    const cached = state.customers.get(openid);
    if (cached) state.customers.set(openid, { ...cached, fetchedAt: 0 });
    return load(session);
  }

  return { render, load, refresh };
}
