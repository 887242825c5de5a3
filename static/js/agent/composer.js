// The composer: Enter sends (never while an input method is composing), drafts kept per session
// in sessionStorage, and canned replies picked by typing "/" and a shortcut or words of the text
// (inserted with their placeholders filled in by agent/canned.js).
import { t } from "kefu/i18n";
import { el, clear, byId as $ } from "kefu/ui";
import { budgetState } from "kefu/agent/conversation";

const MAX_CANNED_SHOWN = 8;
// Long enough for a click on a canned reply to land before the list closes on blur.
const CANNED_BLUR_CLOSE_MS = 150;
const draftKey = (id) => `kefu.draft.${id}`;

export function createComposer(desk) {
  const { state, socket } = desk;
  const input = $("composer-input");
  const cannedList = $("canned");
  let cannedItems = [];
  let cannedIndex = 0;

  function loadDraft(id) {
    return sessionStorage.getItem(draftKey(id)) || "";
  }

  function saveDraft() {
    const entry = state.active && state.sessions.get(state.active);
    if (!entry) return;
    const value = input.value;
    if (value) sessionStorage.setItem(draftKey(state.active), value);
    else sessionStorage.removeItem(draftKey(state.active));
  }

  function dropDraft(id) {
    sessionStorage.removeItem(draftKey(id));
  }

  function submit() {
    const text = input.value.trim();
    const entry = state.active && state.sessions.get(state.active);
    if (!text || !entry || !budgetState(entry).can) return;
    if (!socket.isOpen) {
      $("composer-error").textContent = t("conn.send_disabled");
      return;
    }
    $("composer-error").textContent = "";
    input.value = "";
    dropDraft(state.active);
    closeCanned();
    desk.replies.send(text, state.active);
    input.focus();
  }

  function updateCanned() {
    const value = input.value;
    if (!value.startsWith("/") || value.includes("\n")) {
      closeCanned();
      return;
    }
    cannedItems = desk.canned.search(value.slice(1)).slice(0, MAX_CANNED_SHOWN);
    cannedIndex = 0;
    clear(cannedList);
    if (!cannedItems.length) {
      cannedList.append(el("li", { class: "canned-empty", role: "option", "aria-disabled": "true", text: state.canned.length ? t("canned.no_match") : t("canned.none") }));
    }
    cannedItems.forEach((r, i) => {
      const item = el("li", { id: `canned-${i}`, role: "option", class: "canned-item", "aria-selected": "false" },
        el("span", { class: "canned-shortcut mono", text: `/${r.shortcut || ""}` }),
        r.title ? el("strong", { class: "canned-title", text: r.title }) : null,
        el("span", { class: "canned-text", text: r.text || "" }));
      item.addEventListener("mousedown", (ev) => {
        ev.preventDefault();
        pickCanned(r);
      });
      cannedList.append(item);
    });
    cannedList.hidden = false;
    input.setAttribute("aria-expanded", "true");
    renderCannedSelection();
  }

  function renderCannedSelection() {
    cannedItems.forEach((_, i) => {
      const node = document.getElementById(`canned-${i}`);
      if (node) node.setAttribute("aria-selected", String(i === cannedIndex));
    });
    if (cannedItems.length) input.setAttribute("aria-activedescendant", `canned-${cannedIndex}`);
    else input.removeAttribute("aria-activedescendant");
    const sel = document.getElementById(`canned-${cannedIndex}`);
    if (sel) sel.scrollIntoView({ block: "nearest" });
  }

  function pickCanned(reply) {
    insert(desk.canned.fill(reply));
  }

  // The composer's text becomes ``text`` (a picked canned reply, placeholders filled in).
  function insert(text) {
    input.value = text;
    closeCanned();
    saveDraft();
    input.focus();
  }

  function closeCanned() {
    cannedList.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
  }

  // The open canned list takes the arrows, Enter / Tab (pick) and Escape before the composer does.
  function cannedKey(ev) {
    if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
      const n = cannedItems.length;
      if (n) cannedIndex = (cannedIndex + (ev.key === "ArrowDown" ? 1 : n - 1)) % n;
      renderCannedSelection();
      return true;
    }
    if ((ev.key === "Enter" || ev.key === "Tab") && !ev.shiftKey && cannedItems.length) {
      pickCanned(cannedItems[cannedIndex]);
      return true;
    }
    if (ev.key === "Escape") {
      closeCanned();
      return true;
    }
    return false;
  }

  $("composer").addEventListener("submit", (ev) => {
    ev.preventDefault();
    submit();
  });
  input.addEventListener("input", () => {
    saveDraft();
    updateCanned();
  });
  input.addEventListener("keydown", (ev) => {
    if (!cannedList.hidden && cannedKey(ev)) {
      ev.preventDefault();
      return;
    }
    // Enter sends; Shift+Enter breaks the line; never while an IME is composing (pinyin input).
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing && ev.keyCode !== 229) {
      ev.preventDefault();
      submit();
    }
  });
  input.addEventListener("blur", () => setTimeout(closeCanned, CANNED_BLUR_CLOSE_MS));

  return { loadDraft, saveDraft, dropDraft, insert };
}
