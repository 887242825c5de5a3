// Keyboard shortcuts: Alt+A accepts the oldest offer; Alt+ArrowDown / Alt+ArrowUp move to the
// next / previous conversation in the list's order. Key codes, not characters: they work whatever
// the keyboard layout or input method (documented in the README and in the sidebar's hint).
export function wireShortcuts(desk) {
  document.addEventListener("keydown", (ev) => {
    if (!ev.altKey || ev.ctrlKey || ev.metaKey || ev.shiftKey || ev.isComposing) return;
    if (document.querySelector("dialog[open]")) return;
    if (ev.code === "KeyA") {
      const first = document.querySelector("#offers .offer-card button[aria-keyshortcuts]");
      if (!first) return;
      ev.preventDefault();
      first.click();
    } else if (ev.code === "ArrowDown" || ev.code === "ArrowUp") {
      const ids = [...document.querySelectorAll("#sessions .session-item")].map((b) => b.dataset.sessionId);
      if (!ids.length) return;
      ev.preventDefault();
      const at = ids.indexOf(desk.state.active);
      const step = ev.code === "ArrowDown" ? 1 : -1;
      const next = at < 0 ? ids[step > 0 ? 0 : ids.length - 1] : ids[(at + step + ids.length) % ids.length];
      desk.sessions.select(next);
      desk.conversation.focus();
    }
  });
}
