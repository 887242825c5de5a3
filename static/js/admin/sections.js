// The admin console's sections, in the order of its navigation. A section is a module under
// static/js/admin/ exporting `render(root, ctx)` (ctx: {user, canEdit}); adding one is a module,
// its name in handlers/pages.py's import map, and one line here. `roles`: who sees it.
export const SECTIONS = [
  { id: "overview", labelKey: "admin.nav.overview", roles: ["admin", "supervisor", "qa"], load: () => import("kefu/admin/overview") },
  { id: "transcripts", labelKey: "admin.nav.transcripts", roles: ["admin", "supervisor", "qa"], load: () => import("kefu/admin/transcripts") },
  { id: "skills", labelKey: "admin.nav.skills", roles: ["admin", "supervisor"], load: () => import("kefu/admin/skills") },
  { id: "users", labelKey: "admin.nav.users", roles: ["admin"], load: () => import("kefu/admin/users") },
  { id: "teams", labelKey: "admin.nav.teams", roles: ["admin"], load: () => import("kefu/admin/teams") },
  { id: "texts", labelKey: "admin.nav.texts", roles: ["admin"], load: () => import("kefu/admin/texts") },
  { id: "leave_messages", labelKey: "admin.nav.leave_messages", roles: ["admin", "supervisor"], load: () => import("kefu/admin/leave_messages") },
  { id: "canned", labelKey: "admin.nav.canned", roles: ["admin", "supervisor"], load: () => import("kefu/admin/canned") },
  { id: "bot", labelKey: "admin.nav.bot", roles: ["admin"], load: () => import("kefu/admin/bot") },
  { id: "menu", labelKey: "admin.nav.menu", roles: ["admin"], load: () => import("kefu/admin/menu") },
  { id: "reports", labelKey: "admin.nav.reports", roles: ["admin", "supervisor"], load: () => import("kefu/admin/reports") },
  { id: "alerts", labelKey: "admin.nav.alerts", roles: ["admin"], load: () => import("kefu/admin/alerts") },
  { id: "notifications", labelKey: "admin.nav.notifications", roles: ["admin"], load: () => import("kefu/admin/notifications") },
  { id: "audit", labelKey: "admin.nav.audit", roles: ["admin"], load: () => import("kefu/admin/audit") },
];

/** The sections a user may open. */
export function sectionsFor(user) {
  const roles = (user && user.roles) || [];
  return SECTIONS.filter((s) => s.roles.some((r) => roles.includes(r)));
}
