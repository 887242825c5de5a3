// Small DOM and formatting helpers shared by the consoles. User text only ever reaches the page
// through textContent and attributes set here, never through innerHTML.
import { t, has, lang, setLang } from "kefu/i18n";

export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
    else if (key === "value") node.value = value;
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  append(node, ...children);
  return node;
}

export function append(node, ...children) {
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
}

export const $ = (sel, root = document) => root.querySelector(sel);
export const byId = (id) => document.getElementById(id);

// The server's clock, estimated from ping results; times from the server are compared with it.
export const clock = {
  offsetMs: 0,
  now() {
    return (Date.now() + this.offsetMs) / 1000;
  },
};

export function fmtDuration(secs) {
  secs = Math.max(0, Math.floor(secs || 0));
  const h = Math.floor(secs / 3600);
  const m = Math.floor((secs % 3600) / 60);
  const s = secs % 60;
  const pad = (n) => String(n).padStart(2, "0");
  return h ? `${h}:${pad(m)}:${pad(s)}` : `${m}:${pad(s)}`;
}

export function fmtAgo(secs) {
  secs = Math.max(0, Math.floor(secs || 0));
  if (secs < 10) return t("time.just_now");
  if (secs < 60) return t("time.seconds_ago", { n: secs });
  if (secs < 3600) return t("time.minutes_ago", { n: Math.floor(secs / 60) });
  if (secs < 86400) return t("time.hours_ago", { n: Math.floor(secs / 3600) });
  return t("time.days_ago", { n: Math.floor(secs / 86400) });
}

export function fmtClock(ts) {
  if (!ts) return "";
  const d = new Date(ts * 1000);
  return d.toLocaleTimeString(lang(), { hour: "2-digit", minute: "2-digit" });
}

export function fmtDateTime(ts) {
  if (!ts) return "";
  const d = new Date(ts * 1000);
  return d.toLocaleString(lang(), { month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" });
}

// One ticker for every live clock on the page.
const tickers = new Set();
setInterval(() => {
  for (const fn of tickers) {
    try {
      fn();
    } catch (exc) {
      console.error(exc);
    }
  }
}, 1000);
export function everySecond(fn) {
  tickers.add(fn);
  return () => tickers.delete(fn);
}

export function toast(text, level = "info", { timeoutMs = 6000 } = {}) {
  let region = document.getElementById("toasts");
  if (!region) {
    region = el("div", { id: "toasts", class: "toasts", role: "status", "aria-live": "polite" });
    document.body.append(region);
  }
  const item = el("div", { class: `toast toast-${level}` }, el("span", { text }));
  const dismiss = el("button", { type: "button", class: "toast-close", "aria-label": t("common.dismiss"), text: "×" });
  dismiss.addEventListener("click", () => item.remove());
  item.append(dismiss);
  region.append(item);
  if (timeoutMs) setTimeout(() => item.remove(), timeoutMs);
  return item;
}

export function customerName(customer, openid) {
  const c = customer || {};
  return c.nickname || c.name || c.openid || openid || t("common.unknown_customer");
}

export function initials(name) {
  const s = String(name || "?").trim();
  return s ? Array.from(s)[0].toUpperCase() : "?";
}

// Stable soft colour for an avatar, from a string.
export function avatarHue(s) {
  let h = 0;
  for (const ch of String(s || "")) h = (h * 31 + ch.codePointAt(0)) % 360;
  return h;
}

// The initial on a soft colour; with a picture URL (a customer's WeChat avatar) the picture covers
// it, and a picture that fails to load leaves the initial showing.
export function avatar(name, key, url) {
  const node = el("span", { class: "avatar", "aria-hidden": "true", text: initials(name) });
  node.style.setProperty("--hue", String(avatarHue(key || name)));
  const src = url ? safeUrl(url) : null;
  if (src) {
    const img = el("img", { class: "avatar-img", src, alt: "", loading: "lazy", referrerpolicy: "no-referrer", decoding: "async" });
    img.addEventListener("error", () => {
      img.remove();
      node.classList.remove("has-img");
    });
    node.classList.add("has-img");
    node.append(img);
  }
  return node;
}

// A customer's avatar: their WeChat picture when known, else the initial of their name.
export function customerAvatar(customer, openid) {
  const c = customer || {};
  return avatar(customerName(c, openid), c.openid || openid, c.avatar_url);
}

// The openid, shown as a detail beside a customer's name (null when the name is the openid).
export function customerDetail(customer, openid) {
  const c = customer || {};
  const id = c.openid || openid || "";
  return id && customerName(c, openid) !== id ? id : null;
}

// Why a session ended, as one whole sentence in the console's language (never a bare code).
export function closedSentence(reason) {
  const key = `closed.${reason || "closed"}`;
  return has(key) ? t(key) : t("closed.other");
}

export function skillLabel(skills, name) {
  const found = (skills || []).find((s) => s.name === name);
  return (found && ((found.labels && found.labels[lang()]) || found.label)) || name || "";
}

// Wire up the language switch and the logout button every console has.
export function setupChrome({ user, onLogout }) {
  const langBtn = document.getElementById("lang-switch");
  if (langBtn) {
    langBtn.textContent = lang() === "en" ? "中文" : "English";
    langBtn.setAttribute("lang", lang() === "en" ? "zh-CN" : "en");
    langBtn.addEventListener("click", () => setLang(lang() === "en" ? "zh-CN" : "en"));
    // The page serves it disabled: a click before this module ran would do nothing.
    langBtn.disabled = false;
  }
  const who = document.getElementById("whoami");
  if (who && user) {
    clear(who).append(avatar(user.name || user.username, user.id), el("span", { class: "whoami-name", text: user.name || user.username }));
  }
  const out = document.getElementById("logout");
  if (out) out.addEventListener("click", onLogout);
}

// Open a <dialog> modally; Esc closes it (native), focus returns to the opener.
export function openDialog(dialog, { focus } = {}) {
  const opener = document.activeElement;
  dialog.showModal();
  if (focus) focus.focus();
  dialog.addEventListener(
    "close",
    () => {
      if (opener && typeof opener.focus === "function" && document.contains(opener)) opener.focus();
    },
    { once: true },
  );
}

// Every dialog's [data-close] button (cancel, close) closes its dialog.
export function wireDialogCloseButtons(root = document) {
  for (const btn of root.querySelectorAll("dialog [data-close]")) {
    btn.addEventListener("click", () => btn.closest("dialog").close());
  }
}

// A form's error line (role="alert"): shown with the text, hidden without one.
export function showFormError(id, text) {
  const node = document.getElementById(id);
  node.textContent = text;
  node.hidden = !text;
}

export function safeUrl(url) {
  try {
    const u = new URL(url, location.href);
    return u.protocol === "http:" || u.protocol === "https:" ? u.href : null;
  } catch {
    return null;
  }
}
