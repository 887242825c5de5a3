// The conversation on screen: its header (customer, skill, transfers, a hand-over under way), the
// closed banner, the transcript, and WeChat's reply budget (the 48-hour window and the replies
// left) that decides whether the composer may send.
import { t } from "kefu/i18n";
import { clock, fmtDuration, fmtDateTime, customerName, customerAvatar, customerDetail, closedSentence, skillLabel, byId as $ } from "kefu/ui";

// Under an hour left in WeChat's reply window: warn.
const WINDOW_WARN_SECS = 3600;
// WeChat's replies per customer message when the server does not say.
const DEFAULT_REPLIES_MAX = 5;

/** Whether the entry on screen can take a reply now, and why not. */
export function budgetState(entry) {
  if (!entry || entry.closed) return { can: false, reason: "closed" };
  const b = entry.session.budget;
  if (!b) return { can: true, unknown: true };
  const windowLeft = b.window_ends_at ? b.window_ends_at - clock.now() : null;
  if (windowLeft !== null && windowLeft <= 0) return { can: false, reason: "window_closed", b, windowLeft: 0 };
  if (b.can_reply === false) return { can: false, reason: b.reason || "quota_used", b, windowLeft };
  if (typeof b.replies_left === "number" && b.replies_left <= 0) return { can: false, reason: "quota_used", b, windowLeft };
  return { can: true, b, windowLeft };
}

export function createConversation(desk) {
  const { state, socket, view } = desk;

  function render(full = false) {
    const entry = desk.sessions.active();
    $("conv-empty").hidden = !!entry;
    $("conv").hidden = !entry;
    if (!entry) {
      view.transcript = null;
      desk.customer.render(null);
      return;
    }
    const s = entry.session;
    const who = state.profiles.of(s.customer, s.openid);
    $("conv-avatar").replaceChildren(customerAvatar(who));
    $("conv-title").textContent = customerName(who);
    $("conv-title").title = customerDetail(who) || "";
    const meta = [customerDetail(who), skillLabel(state.skills, s.skill)];
    if (s.accepted_at) meta.push(t("conv.accepted_at", { time: fmtDateTime(s.accepted_at) }));
    if (s.transfers && s.transfers.length) meta.push(t("conv.transferred_n", { n: s.transfers.length }));
    const pending = s.handover && s.handover.status === "pending" && s.handover.to_agent ? s.handover : null;
    if (pending) meta.push(t("conv.transfer_pending", { name: desk.agentName(pending.to_agent) || pending.to_name || pending.to_agent }));
    $("conv").dataset.transferPending = pending ? "true" : "false";
    $("conv-meta").textContent = meta.filter(Boolean).join(" · ");
    const closed = !!entry.closed;
    $("conv-closed").hidden = !closed;
    if (closed) $("conv-closed").textContent = t("conv.closed", { sentence: closedSentence(entry.closed) });
    $("btn-transfer").disabled = closed;
    $("btn-close").disabled = closed;
    if (full || view.transcript !== entry.transcript) {
      view.show(entry.transcript);
      $("composer-input").value = closed ? "" : desk.composer.loadDraft(String(s.id));
    }
    renderBudget();
    desk.customer.render(s);
    if (desk.leaveMessage) desk.leaveMessage.render();
  }

  // Keyboard work goes on in the composer; a closed conversation has none, so its messages.
  function focus() {
    const input = $("composer-input");
    if (!$("conv").hidden && !input.disabled) input.focus();
    else if (!$("conv").hidden) $("messages").focus();
  }

  function renderBudget() {
    const st = budgetState(desk.sessions.active());
    const input = $("composer-input");
    const send = $("send");
    const warn = $("budget-warning");
    const win = $("budget-window");
    const rep = $("budget-replies");
    const connected = socket.isOpen;
    input.disabled = !st.can;
    send.disabled = !st.can || !connected;
    $("composer").classList.toggle("composer-disabled", !st.can);
    if (st.b) {
      const max = st.b.replies_max || DEFAULT_REPLIES_MAX;
      const left = typeof st.b.replies_left === "number" ? st.b.replies_left : max;
      win.textContent = st.windowLeft !== null && st.windowLeft !== undefined
        ? t("budget.window_left", { time: fmtDuration(st.windowLeft) }) : "";
      rep.textContent = t("budget.replies_left", { n: left, max });
      rep.classList.toggle("budget-low", left <= 1);
      win.classList.toggle("budget-low", st.windowLeft !== null && st.windowLeft < WINDOW_WARN_SECS);
    } else {
      win.textContent = "";
      rep.textContent = "";
    }
    let text = "";
    let level = "";
    if (!st.can) {
      if (st.reason === "closed") text = t("budget.closed");
      else text = t(`budget.${st.reason}`) || t("budget.cannot_reply");
      level = "error";
      input.placeholder = text;
    } else {
      input.placeholder = t("agent.composer_placeholder");
      if (st.b && st.b.replies_left === 1) {
        text = t("budget.last_reply");
        level = "warn";
      } else if (st.windowLeft !== null && st.windowLeft !== undefined && st.windowLeft < WINDOW_WARN_SECS) {
        text = t("budget.window_closing", { time: fmtDuration(st.windowLeft) });
        level = "warn";
      }
    }
    if (!connected && st.can) {
      text = t("conn.send_disabled");
      level = "warn";
    }
    warn.hidden = !text;
    warn.textContent = text;
    warn.dataset.level = level;
  }

  return { render, focus, renderBudget };
}
