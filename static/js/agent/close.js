// Closing a session: the dialog with a wrap-up code and a note. Also how a wrap-up code reads
// (the customer panel and past sessions show them too).
import { t, has, lang } from "kefu/i18n";
import { el, clear, toast, openDialog, showFormError, byId as $ } from "kefu/ui";
import { failureText } from "kefu/messages";

// GET /api/skills lists wrap-up codes as strings or as objects with a code and a label.
function wrapupCode(w) {
  return typeof w === "string" ? w : w.code || w.name || w.id;
}

// An admin's label is a text or one per language ({"zh-CN": …, "en": …}).
function labelText(label) {
  if (typeof label === "string") return label;
  if (label && typeof label === "object") return label[lang()] || label["zh-CN"] || label.en || "";
  return "";
}

export function wrapupLabel(wrapups, code) {
  const found = wrapups.find((w) => wrapupCode(w) === code);
  const label = found && typeof found === "object" ? labelText(found.label) || found.name : "";
  if (label) return label;
  return has(`wrapup.${code}`) ? t(`wrapup.${code}`) : code;
}

export function createCloseDialog(desk) {
  const { state, socket } = desk;

  $("btn-close").addEventListener("click", () => {
    const entry = desk.sessions.active();
    if (!entry || entry.closed) return;
    const sel = $("close-wrapup");
    clear(sel);
    sel.append(el("option", { value: "", text: t("close.pick") }));
    for (const w of state.wrapups) {
      const code = wrapupCode(w);
      sel.append(el("option", { value: code, text: wrapupLabel(state.wrapups, code) }));
    }
    if (!state.wrapups.length) sel.append(el("option", { value: "resolved", text: "resolved" }));
    $("close-note").value = "";
    $("close-error").hidden = true;
    openDialog($("close-dialog"), { focus: sel });
  });

  $("close-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const entry = desk.sessions.active();
    if (!entry) return;
    const wrapup = $("close-wrapup").value;
    if (!wrapup) return showFormError("close-error", t("close.pick_required"));
    const fields = { session_id: entry.session.id, wrapup };
    const note = $("close-note").value.trim();
    if (note) fields.note = note;
    const submit = $("close-submit");
    submit.disabled = true;
    try {
      await socket.request("close", fields);
      $("close-dialog").close();
      toast(t("close.done"), "success");
      desk.sessions.markClosed(String(entry.session.id), "closed");
    } catch (exc) {
      showFormError("close-error", t("close.failed", { reason: failureText(exc) }));
    } finally {
      submit.disabled = false;
    }
  });
}
