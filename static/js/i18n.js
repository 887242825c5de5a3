// Strings live in static/i18n/<lang>.js, one module per language; this module picks the language
// (zh-CN unless the user chose English), fills data-i18n* attributes and formats strings.
const LANGS = ["zh-CN", "en"];
const STORAGE_KEY = "kefu.lang";
let strings = {};
let current = "zh-CN";

export function lang() {
  return current;
}

export async function initI18n() {
  let wanted = null;
  try {
    wanted = localStorage.getItem(STORAGE_KEY);
  } catch {
    wanted = null;
  }
  current = LANGS.includes(wanted) ? wanted : "zh-CN";
  const mod = current === "en" ? await import("kefu/lang/en") : await import("kefu/lang/zh-CN");
  strings = mod.default;
  document.documentElement.lang = current;
  applyI18n(document);
  return current;
}

export function setLang(next) {
  try {
    localStorage.setItem(STORAGE_KEY, next);
  } catch {
    // private mode: the choice lasts for this page only
  }
  location.reload();
}

// t("offer.waited", {s: 12}) -> the string with {s} replaced; a missing key shows itself.
export function t(key, vars) {
  let s = strings[key];
  if (s === undefined) {
    // An unknown code from the server (a new reason, say) shows as itself, not as a key path.
    s = key.includes(".") ? key.slice(key.lastIndexOf(".") + 1) : key;
  }
  if (vars) {
    s = s.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? String(vars[name]) : m));
  }
  return s;
}

export function has(key) {
  return key in strings;
}

export function applyI18n(root) {
  for (const node of root.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const node of root.querySelectorAll("[data-i18n-aria]")) node.setAttribute("aria-label", t(node.dataset.i18nAria));
  for (const node of root.querySelectorAll("[data-i18n-title]")) node.title = t(node.dataset.i18nTitle);
  for (const node of root.querySelectorAll("[data-i18n-placeholder]")) node.placeholder = t(node.dataset.i18nPlaceholder);
  const title = document.body && document.body.dataset.titleKey;
  if (title) document.title = `${t(title)} · ${t("app.name")}`;
}
