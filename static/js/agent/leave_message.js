// A leave-message on screen (留言, desk/leave_messages.py): that it is one, when it was left and
// when it is due (past due marked), whether WeChat's 48-hour window still lets me answer here, and
// when it does not, the alternatives (a template message if configured, a callback note); closing
// it records the outcome (close_leave_message: answered, callback, no_action, template_sent).
import { t } from "kefu/i18n";
import { el, clear, clock, fmtAgo, fmtDateTime, toast, byId as $ } from "kefu/ui";
import { failureText } from "kefu/messages";
import { budgetState } from "kefu/agent/conversation";

export function createLeaveMessage(desk) {
  const { socket } = desk;
  const options = new Map(); // session id -> the server's alternatives (asked once the window closes)

  async function alternatives(id) {
    if (!options.has(id)) {
      options.set(id, null);
      try {
        const result = await socket.request("leave_message_alternatives", { session_id: id });
        options.set(id, result.alternatives);
      } catch {
        options.delete(id); // asked again at the next render
      }
      render();
    }
    return options.get(id);
  }

  async function close(id, outcome, fields = {}) {
    try {
      await socket.request("close_leave_message", { session_id: id, outcome, ...fields });
      toast(t("agent.lm.closed", { outcome: t(`admin.lm.outcome_${outcome}`) }), "success");
    } catch (exc) {
      toast(t("agent.lm.close_failed", { reason: failureText(exc) }), "error");
    }
  }

  function callbackForm(id) {
    const phone = el("input", { id: "lm-phone", name: "callback_phone", type: "tel", required: true, autocomplete: "off", inputmode: "tel" });
    const when = el("input", { id: "lm-when", name: "callback_at", autocomplete: "off" });
    const note = el("input", { id: "lm-note", name: "note", autocomplete: "off" });
    const field = (input, key) => el("div", { class: "field" }, el("label", { for: input.id, text: t(key) }), input);
    const form = el("form", { class: "lm-callback", id: "lm-callback", "aria-label": t("agent.lm.callback") },
      field(phone, "agent.lm.phone"), field(when, "agent.lm.when"), field(note, "agent.lm.note"),
      el("button", { type: "submit", class: "btn btn-primary btn-sm", text: t("agent.lm.save_callback") }));
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      if (!phone.value.trim()) {
        phone.focus();
        return;
      }
      close(id, "callback", { callback_phone: phone.value.trim(), callback_at: when.value.trim() || undefined, note: note.value.trim() || undefined });
    });
    return form;
  }

  function render() {
    const box = $("conv-leave-message");
    const entry = desk.sessions.active();
    const lm = entry && entry.session.leave_message;
    if (!lm || entry.closed) {
      box.hidden = true;
      clear(box);
      return;
    }
    const id = String(entry.session.id);
    const now = clock.now();
    const overdue = lm.due_at && now > lm.due_at;
    const st = budgetState(entry);
    const windowClosed = !st.can && st.reason === "window_closed";
    clear(box);
    box.hidden = false;
    box.append(
      el("h2", { class: "lm-title" }, el("span", { class: "chip chip-warn", text: t("agent.lm.badge") }), " ",
        el("span", { text: t("agent.lm.left", { ago: fmtAgo(now - lm.created_at) }) }), " · ",
        lm.due_at ? el("span", { class: overdue ? "lm-overdue" : "", dataset: { testid: "lm-due" },
          text: t(overdue ? "agent.lm.overdue" : "agent.lm.due", { when: fmtDateTime(lm.due_at) }) }) : null));
    if (!windowClosed) {
      const ends = st.b && st.b.window_ends_at;
      if (ends) box.append(el("p", { class: "small", text: t("agent.lm.window_open", { when: fmtDateTime(ends) }) }));
      const answered = el("button", { type: "button", class: "btn btn-sm", id: "lm-close-answered", text: t("agent.lm.close_answered") });
      answered.addEventListener("click", () => close(id, "answered"));
      box.append(el("div", { class: "admin-actions" }, answered));
      return;
    }
    box.append(el("p", { class: "lm-window-closed", role: "status", text: t("agent.lm.window_closed") }));
    const alts = options.get(id) || null;
    if (!options.has(id)) alternatives(id);
    const template = (alts || []).find((a) => a.kind === "template");
    const available = !!(template && template.available);
    // The answer goes in the template's fields (desk/leave_templates.py); without the service the
    // button stays disabled and says why.
    const templateText = el("input", { id: "lm-template-text", autocomplete: "off", maxlength: "200", hidden: !available,
      "aria-label": t("agent.lm.template_text"), placeholder: t("agent.lm.template_text") });
    const templateButton = el("button", { type: "button", class: "btn btn-sm", id: "lm-template", text: t("agent.lm.template"),
      disabled: !available, "aria-describedby": "lm-template-why" });
    templateButton.addEventListener("click", async () => {
      if (!templateText.value.trim()) {
        templateText.focus();
        return;
      }
      templateButton.disabled = true;
      try {
        await socket.request("send_leave_message_template", { session_id: id, text: templateText.value.trim() });
        toast(t("agent.lm.closed", { outcome: t("admin.lm.outcome_template_sent") }), "success");
      } catch (exc) {
        toast(t("agent.lm.close_failed", { reason: failureText(exc) }), "error");
        templateButton.disabled = false;
      }
    });
    const why = template && !template.available ? t(`agent.lm.template_off_${template.reason}`) : "";
    const noAction = el("button", { type: "button", class: "btn btn-ghost btn-sm", id: "lm-close-none", text: t("agent.lm.close_no_action") });
    noAction.addEventListener("click", () => close(id, "no_action"));
    box.append(el("section", { class: "lm-alternatives", "aria-label": t("agent.lm.alternatives") },
      el("h3", { text: t("agent.lm.alternatives") }),
      el("div", { class: "lm-callback" }, templateText, templateButton, " ", el("span", { class: "small muted", id: "lm-template-why", text: why })),
      callbackForm(id),
      el("div", {}, noAction)));
  }

  return { render };
}
