// Transferring the session on screen: to a skill's queue or to a named colleague (a list for staff,
// who may read /api/agents; a typed name for a plain agent), with a note the colleague sees.
import { t } from "kefu/i18n";
import { el, clear, toast, skillLabel, openDialog, showFormError, byId as $ } from "kefu/ui";
import { failureText } from "kefu/messages";

const TARGETS = '#transfer-form input[name="target"]';
const toAgentChecked = () => document.querySelector(`${TARGETS}:checked`).value === "agent";

export function createTransferDialog(desk) {
  const { state, socket, user } = desk;

  function open() {
    const entry = desk.sessions.active();
    if (!entry || entry.closed) return;
    const skillSel = $("transfer-skill");
    clear(skillSel);
    for (const s of state.skills) skillSel.append(el("option", { value: s.name, text: s.label || s.name }));
    if (!state.skills.length) skillSel.append(el("option", { value: entry.session.skill || "general", text: entry.session.skill || "general" }));
    skillSel.value = entry.session.skill || skillSel.value;
    const agentSel = $("transfer-agent");
    const agentText = $("transfer-agent-text");
    clear(agentSel);
    const others = (state.agents || []).filter((a) => String(a.id) !== String(user.id));
    if (state.agents) {
      for (const a of others) {
        const status = t(`presence.${a.status}`);
        agentSel.append(el("option", { value: a.id, text: `${a.name || a.username} · ${status}` }));
      }
      agentSel.hidden = false;
      agentText.hidden = true;
      $("transfer-agent-hint").hidden = true;
    } else {
      agentSel.hidden = true;
      agentText.hidden = false;
      agentText.value = "";
      $("transfer-agent-hint").hidden = false;
    }
    $("transfer-note").value = "";
    $("transfer-error").hidden = true;
    document.querySelector('#transfer-form input[value="skill"]').checked = true;
    syncTarget();
    openDialog($("transfer-dialog"));
  }

  function syncTarget() {
    const toAgent = toAgentChecked();
    $("transfer-skill-field").hidden = toAgent;
    $("transfer-agent-field").hidden = !toAgent;
    // The visible agent control is the one the label points at.
    $("transfer-agent-field").querySelector("label").htmlFor = state.agents ? "transfer-agent" : "transfer-agent-text";
  }

  async function submit(ev) {
    ev.preventDefault();
    const entry = desk.sessions.active();
    if (!entry) return;
    const fields = { session_id: entry.session.id };
    if (toAgentChecked()) {
      const value = state.agents ? $("transfer-agent").value : $("transfer-agent-text").value.trim();
      if (!value) return showFormError("transfer-error", t("transfer.pick_agent"));
      fields.to_agent = value;
    } else {
      fields.to_skill = $("transfer-skill").value;
    }
    const note = $("transfer-note").value.trim();
    if (note) fields.note = note;
    const button = $("transfer-submit");
    button.disabled = true;
    try {
      // The server says what happened; the list follows the server's events (session_closed when
      // the session has left this desk), never a guess made here.
      const result = await socket.request("transfer", fields);
      $("transfer-dialog").close();
      if (result && result.status === "offered") {
        const name = desk.agentName(result.to_agent) || result.to_name || fields.to_agent;
        toast(t("transfer.offered", { name }), "info");
      } else {
        toast(t("transfer.to_queue_done", { skill: skillLabel(state.skills, fields.to_skill) }), "success");
      }
    } catch (exc) {
      showFormError("transfer-error", t("transfer.failed", { reason: failureText(exc) }));
    } finally {
      button.disabled = false;
    }
  }

  $("btn-transfer").addEventListener("click", open);
  for (const radio of document.querySelectorAll(TARGETS)) radio.addEventListener("change", syncTarget);
  $("transfer-form").addEventListener("submit", submit);
}
