// The admin console's first page: where each kind of work is, for the roles that see it.
import { t } from "kefu/i18n";
import { el } from "kefu/ui";
import { sectionsFor } from "kefu/admin/sections";

export function render(root, { user }) {
  const list = el("ul", { class: "admin-cards" });
  for (const s of sectionsFor(user)) {
    if (s.id === "overview") continue;
    list.append(el("li", {}, el("a", { class: "card admin-card", href: `#/${s.id}` },
      el("span", { class: "section-title", text: t(s.labelKey) }),
      el("span", { class: "muted small", text: t(`${s.labelKey}_hint`) }))));
  }
  if (!list.children.length) list.append(el("li", { class: "muted", text: t("admin.nothing_yet") }));
  root.append(el("p", { class: "muted", text: t("admin.overview_intro") }), list);
}
