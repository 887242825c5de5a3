// The admin console (/admin): one page, a section per kind of setting (static/js/admin/), chosen
// by the location's hash (#/users, #/skills, ...) so every section has an address a person can
// bookmark. No socket: settings are read and changed over /api/, and take effect live on the
// server (desk/settings.py).
import { initI18n, t } from "kefu/i18n";
import { el, clear, toast, byId as $ } from "kefu/ui";
import { requireSignIn, guardPage, roleHome } from "kefu/guard";
import { sectionsFor } from "kefu/admin/sections";

await initI18n();
const { user } = requireSignIn("admin");
guardPage(user);
const sections = sectionsFor(user);
// Where a bare /admin opens: admins the overview of every setting; QA (and supervisors who come
// here) their first section of work, the QA work queue.
const home = (user.roles || []).includes("admin") ? sections[0] : (sections.find((s) => s.id === "qa") || sections.find((s) => s.id !== "overview") || sections[0]);

// The other consoles this user may open, beside the admin console.
const consoles = $("admin-consoles");
for (const [path, key, roles] of [["/supervisor", "admin.to_wall", ["supervisor", "admin", "qa"]], ["/agent", "admin.to_agent", ["agent"]]]) {
  if (roles.some((r) => (user.roles || []).includes(r))) consoles.append(el("a", { class: "btn btn-ghost btn-sm", href: path, text: t(key) }));
}

const nav = $("admin-nav");
const links = new Map();
for (const s of sections) {
  const a = el("a", { href: `#/${s.id}`, class: "admin-nav-link", text: t(s.labelKey) });
  links.set(s.id, a);
  nav.append(a);
}

let shown = 0; // a newer navigation wins over a section still loading
async function show() {
  const wanted = location.hash.replace(/^#\/?/, "").split("?")[0];
  const section = sections.find((s) => s.id === wanted) || home;
  if (!section) {
    location.replace(roleHome(user) || "/");
    return;
  }
  const mine = ++shown;
  for (const [id, a] of links) {
    if (id === section.id) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  $("admin-section-title").textContent = t(section.labelKey);
  document.title = `${t(section.labelKey)} · ${t("admin.title")} · ${t("app.name")}`;
  const root = clear($("admin-section"));
  root.append(el("p", { class: "muted", text: t("common.loading") }));
  try {
    const mod = await section.load();
    if (mine !== shown) return;
    clear(root);
    await mod.render(root, { user });
  } catch (exc) {
    if (mine !== shown) return;
    clear(root).append(el("p", { class: "banner banner-warn", role: "alert", text: t("admin.load_failed", { reason: exc.message || String(exc) }) }));
    toast(t("admin.load_failed", { reason: exc.message || String(exc) }), "error");
  }
}
window.addEventListener("hashchange", show);
await show();
