// A template message (信息推送) in the consoles' transcripts, drawn as WeChat shows it.
import { t } from "kefu/i18n";
import { el, safeUrl } from "kefu/ui";

/** A template message (信息推送) as WeChat shows it: the title, each field "label value", and a
 * 详情 link when it has a url. `media`: {title, fields: [{key, label, value, color?}], url}. */
export function templateCard(media) {
  const href = safeUrl(media.url);
  const fields = (media.fields || []).flatMap((f) => {
    const dd = el("dd", { text: f.value || "" });
    if (f.color && /^#[0-9a-f]{6}$/i.test(f.color)) dd.style.color = f.color;
    return [el("dt", { text: f.label || f.key || "" }), dd];
  });
  return el("div", { class: "wx-template" },
    el("p", { class: "msg-label", text: t("msg.template") }),
    el("p", { class: "wx-template-title", text: media.title || "" }),
    el("dl", { class: "wx-template-fields" }, fields),
    href ? el("a", { class: "wx-template-more", href, target: "_blank", rel: "noopener noreferrer", text: t("msg.template_more") }) : null);
}
