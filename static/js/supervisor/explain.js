// "Why was it routed here?": the engine's explanation of the monitored session as codes and
// parameters (routing/wording.py), put in this console's language with names instead of ids. A
// sentence without a code (an older record) shows its English text, ids replaced by names.
import { t, has } from "kefu/i18n";
import { el, fmtDuration, customerName, skillLabel, byId as $ } from "kefu/ui";
import { failureText } from "kefu/messages";

const AGENT_PARAMS = new Set(["agent", "from_agent", "original"]);
const SKILL_PARAMS = new Set(["skill", "from_skill", "to_skill", "via"]);

export function createExplanation(sup) {
  const { state, socket } = sup;
  const box = $("explain");
  const btn = $("btn-explain");

  // The engine explains itself with ids; people read names.
  function humanize(text) {
    if (!text) return "";
    let out = String(text);
    for (const a of state.agents) if (a.id) out = out.split(String(a.id)).join(a.name || a.username || a.id);
    for (const s of state.sessions) if (s.id) out = out.split(String(s.id)).join(state.profiles.nameOf(s.customer, s.openid));
    const m = state.monitored;
    if (m && m.session) out = out.split(String(m.id)).join(state.profiles.nameOf(m.session.customer, m.session.openid));
    return out;
  }

  function sessionName(id) {
    const m = state.monitored;
    if (m && String(m.id) === String(id) && m.session) return customerName(m.session.customer, m.session.openid);
    const s = state.sessions.find((x) => String(x.id) === String(id));
    return s ? customerName(s.customer, s.openid) : String(id);
  }

  function phrase(p, fallback) {
    if (!p || !p.code || !has(`explain.${p.code}`)) return humanize(fallback || "");
    const vars = {};
    for (const [k, v] of Object.entries(p.params || {})) {
      if (v && typeof v === "object" && v.code) vars[k] = phrase(v, "");
      else if (k === "session") vars[k] = sessionName(v);
      else if (AGENT_PARAMS.has(k)) vars[k] = sup.agentName(v) || v;
      else if (SKILL_PARAMS.has(k)) vars[k] = skillLabel(state.skills, v);
      else if (k.endsWith("_s") && typeof v === "number") vars[k] = fmtDuration(v);
      else vars[k] = v;
    }
    return t(`explain.${p.code}`, vars);
  }

  function render(r) {
    const x = r.explanation;
    if (!x) return [el("p", { class: "explain-text", text: humanize(r.text) || t("monitor.no_explanation") })];
    const out = [el("p", { class: "explain-text", dataset: { testid: "explain-summary" }, text: phrase(x.summary_code, x.summary) })];
    if (x.strategy) {
      const strategy = has(`explain.strategy.${x.strategy}`) ? t(`explain.strategy.${x.strategy}`) : x.strategy;
      out.push(el("p", { class: "explain-text", text: x.skill
        ? t("explain.strategy_line", { skill: skillLabel(state.skills, x.skill), strategy })
        : t("explain.strategy_line_noskill", { strategy }) }));
    }
    if (x.candidates && x.candidates.length) {
      out.push(el("p", { class: "explain-head", text: t("explain.candidates") }));
      out.push(el("ul", { class: "explain-list" }, ...x.candidates.map((c) =>
        el("li", { dataset: { verdict: c.verdict } }, el("strong", { text: sup.agentName(c.agent_id) || c.agent_id }), " · ", phrase(c.why, c.reason)))));
    }
    const notes = (x.notes || []).map((n, i) => phrase((x.note_codes || [])[i], n));
    if (notes.length) out.push(el("ul", { class: "explain-list" }, ...notes.map((n) => el("li", { text: n }))));
    return out;
  }

  /** Fetches and shows the monitored session's current explanation. */
  async function show() {
    const m = state.monitored;
    if (!m) return;
    try {
      const r = await socket.request("explain", { session_id: m.id });
      if (!state.monitored || state.monitored.id !== m.id) return;
      box.replaceChildren(...render(r));
    } catch (exc) {
      box.replaceChildren(el("p", { class: "form-error", text: t("monitor.explain_failed", { reason: failureText(exc) }) }));
    }
  }

  function hide() {
    box.hidden = true;
    btn.setAttribute("aria-expanded", "false");
  }

  btn.addEventListener("click", async () => {
    if (!state.monitored) return;
    if (!box.hidden) {
      hide();
      return;
    }
    box.hidden = false;
    btn.setAttribute("aria-expanded", "true");
    box.replaceChildren(el("p", { class: "muted", text: t("common.loading") }));
    await show();
  });

  return { show, hide, shown: () => !box.hidden };
}
