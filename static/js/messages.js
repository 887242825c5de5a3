// Transcripts: messages kept once per id, in time order, and rendered as a keyed list so a
// replayed or duplicated message never shows twice and a status change updates one row.
import { t, has } from "kefu/i18n";
import { el, fmtClock, safeUrl } from "kefu/ui";
import { ApiError } from "kefu/api";
import { SocketError } from "kefu/socket";
import { templateCard } from "kefu/template-card";

let arrival = 0;

export class Transcript {
  constructor(messages = []) {
    this.byId = new Map();
    this.list = [];
    for (const m of messages) this.upsert(m);
  }

  // Returns "added", "updated" or null (nothing new).
  upsert(msg) {
    if (!msg || msg.id === undefined || msg.id === null) return null;
    const id = String(msg.id);
    const old = this.byId.get(id);
    if (old) {
      const merged = { ...old, ...msg, _order: old._order };
      // A late, stale copy must not take a delivered message back to "pending".
      if (old.status && old.status !== "pending" && msg.status === "pending") merged.status = old.status;
      if (old.error && !msg.error && merged.status === "failed") merged.error = old.error;
      this.byId.set(id, merged);
      const i = this.list.indexOf(old);
      this.list[i] = merged;
      return "updated";
    }
    const entry = { ...msg, _order: arrival++ };
    this.byId.set(id, entry);
    // Insert by (ts, arrival): usually at the end.
    let i = this.list.length;
    while (i > 0 && cmp(this.list[i - 1], entry) > 0) i -= 1;
    this.list.splice(i, 0, entry);
    return "added";
  }

  remove(id) {
    const old = this.byId.get(String(id));
    if (!old) return;
    this.byId.delete(String(id));
    this.list.splice(this.list.indexOf(old), 1);
  }

  get(id) {
    return this.byId.get(String(id));
  }

  setStatus(id, status, error) {
    const old = this.byId.get(String(id));
    if (!old) return false;
    this.upsert({ id: old.id, status, error: error || null });
    return true;
  }

  lastInbound() {
    for (let i = this.list.length - 1; i >= 0; i -= 1) if (this.list[i].direction === "in") return this.list[i];
    return null;
  }

  last() {
    return this.list[this.list.length - 1] || null;
  }
}

function cmp(a, b) {
  const ta = Number(a.ts) || 0;
  const tb = Number(b.ts) || 0;
  if (ta !== tb) return ta - tb;
  return a._order - b._order;
}

// Keyed rendering of a Transcript into an <ol>.
export class MessageView {
  constructor(container, { me = null, names = () => null, onRetry = null, whisperKey = "msg.whisper_from" } = {}) {
    this.container = container;
    this.whisperKey = whisperKey;
    this.me = me;
    this.names = names;
    this.onRetry = onRetry;
    this.nodes = new Map();
    this.transcript = null;
  }

  show(transcript) {
    this.transcript = transcript;
    this.nodes.clear();
    this.container.replaceChildren();
    for (const m of transcript.list) {
      const node = renderMessage(m, this);
      this.nodes.set(String(m.id), node);
      this.container.append(node);
    }
    this.scrollToEnd(true);
  }

  // Call after transcript.upsert(msg) for the shown transcript.
  sync(id) {
    if (!this.transcript) return;
    const key = String(id);
    const msg = this.transcript.get(key);
    const old = this.nodes.get(key);
    if (!msg) {
      if (old) old.remove();
      this.nodes.delete(key);
      return;
    }
    const nearEnd = this.isNearEnd();
    const node = renderMessage(msg, this);
    this.nodes.set(key, node);
    if (old) {
      old.replaceWith(node);
      return;
    }
    const i = this.transcript.list.indexOf(msg);
    const next = this.transcript.list[i + 1];
    const nextNode = next && this.nodes.get(String(next.id));
    if (nextNode) this.container.insertBefore(node, nextNode);
    else this.container.append(node);
    if (nearEnd || msg.direction === "out") this.scrollToEnd();
  }

  isNearEnd() {
    const c = this.container;
    return c.scrollHeight - c.scrollTop - c.clientHeight < 80;
  }

  scrollToEnd() {
    this.container.scrollTop = this.container.scrollHeight;
  }
}

const EVENT_KEYS = {
  subscribe: "event.subscribe",
  unsubscribe: "event.unsubscribe",
  CLICK: "event.click",
  VIEW: "event.view",
  SCAN: "event.scan",
  LOCATION: "event.location",
  kf_create_session: "event.kf_create",
  kf_close_session: "event.kf_close",
};

export function eventText(msg) {
  const media = msg.media || {};
  const kind = media.event || msg.event || "";
  const key = EVENT_KEYS[kind] || EVENT_KEYS[String(kind).toLowerCase()];
  const detail = media.event_key || media.label || "";
  if (key) return t(key, { key: detail });
  return t("event.other", { event: kind || msg.type || "?", key: detail });
}

// A one-line summary for lists and notifications.
export function previewText(msg) {
  if (!msg) return "";
  const media = msg.media || {};
  switch (msg.type) {
    case "text":
    case undefined:
    case null:
      return msg.text || "";
    case "image":
      return t("msg.image");
    case "voice":
      return media.recognition ? `${t("msg.voice")} ${media.recognition}` : t("msg.voice");
    case "video":
    case "shortvideo":
      return t("msg.video");
    case "location":
      return `${t("msg.location")} ${media.label || ""}`.trim();
    case "link":
      return `${t("msg.link")} ${media.title || ""}`.trim();
    case "file":
      return `${t("msg.file")} ${media.title || media.file_name || ""}`.trim();
    case "event":
      return eventText(msg);
    default:
      return msg.text || t("msg.unsupported", { type: msg.type });
  }
}

function body(msg) {
  const media = msg.media || {};
  const parts = [];
  switch (msg.type) {
    case "image": {
      const src = safeUrl(media.pic_url || media.url);
      if (src) {
        const img = el("img", { class: "msg-image", src, alt: t("msg.image"), loading: "lazy", referrerpolicy: "no-referrer" });
        img.addEventListener("error", () => {
          img.replaceWith(el("a", { href: src, target: "_blank", rel: "noopener noreferrer", text: t("msg.open_image") }));
        });
        parts.push(img);
      } else {
        parts.push(el("span", { class: "msg-kind", text: t("msg.image") }));
      }
      break;
    }
    case "voice":
      parts.push(el("span", { class: "msg-kind", text: t("msg.voice") }));
      if (media.recognition) {
        parts.push(el("p", { class: "msg-recognition" }, el("span", { class: "muted", text: t("msg.recognised") }), " ", media.recognition));
      } else {
        parts.push(el("p", { class: "muted small", text: t("msg.no_recognition") }));
      }
      break;
    case "video":
    case "shortvideo": {
      parts.push(el("span", { class: "msg-kind", text: t("msg.video") }));
      const thumb = safeUrl(media.thumb_url);
      if (thumb) parts.push(el("img", { class: "msg-image", src: thumb, alt: t("msg.video_thumb"), loading: "lazy" }));
      if (media.media_id) parts.push(el("p", { class: "muted small mono", text: media.media_id }));
      break;
    }
    case "location": {
      parts.push(el("span", { class: "msg-kind", text: t("msg.location") }));
      parts.push(el("p", { text: media.label || "" }));
      if (media.location_x !== undefined) {
        parts.push(el("p", { class: "muted small mono", text: `${media.location_x}, ${media.location_y}` }));
      }
      break;
    }
    case "link": {
      const href = safeUrl(media.url);
      const title = media.title || media.url || t("msg.link");
      parts.push(el("span", { class: "msg-kind", text: t("msg.link") }));
      parts.push(href ? el("a", { class: "msg-link", href, target: "_blank", rel: "noopener noreferrer", text: title }) : el("p", { text: title }));
      if (media.description) parts.push(el("p", { class: "muted small", text: media.description }));
      break;
    }
    case "file":
      parts.push(el("span", { class: "msg-kind", text: t("msg.file") }));
      parts.push(el("p", { text: media.title || media.file_name || media.media_id || "" }));
      break;
    case "template":
      parts.push(templateCard(media));
      break;
    case "text":
    case "whisper":
    case "note":
    default:
      if (msg.type && !["text", "whisper", "note"].includes(msg.type) && !msg.text) {
        parts.push(el("span", { class: "msg-kind", text: t("msg.unsupported", { type: msg.type }) }));
      } else {
        parts.push(el("p", { class: "msg-text", text: msg.text || "" }));
      }
  }
  return parts;
}

function statusNode(msg, view) {
  const status = msg.status || "";
  if (!["pending", "sent", "failed"].includes(status)) return null;
  const node = el("span", { class: `msg-status status-${status}` }, t(`status.${status}`));
  if (status === "failed") {
    const err = msg.error;
    const reason = typeof err === "string" ? err : err && (errorText(err.code, "") || err.message);
    if (reason) node.append(el("span", { class: "status-reason", text: ` — ${reason}` }));
    if (view && view.onRetry && msg._local) {
      node.append(" ", el("button", { type: "button", class: "btn btn-link btn-xs", text: t("msg.retry"), onclick: () => view.onRetry(msg) }));
    }
  }
  return node;
}

export function errorText(code, fallback) {
  const key = `error.${code}`;
  return has(key) ? t(key) : fallback;
}

/** Why a socket request or an /api/ call failed, in words: the server's code when it gave one. */
export function failureText(exc) {
  if (exc instanceof SocketError || exc instanceof ApiError) return errorText(exc.code, exc.message);
  return (exc && exc.message) || String(exc);
}

export function renderMessage(msg, view = {}) {
  const id = String(msg.id);
  if (msg.type === "event" || (msg.author === "system" && msg.type !== "whisper")) {
    return el(
      "li",
      { class: "msg msg-system", dataset: { id } },
      el("span", { class: "msg-system-text", text: msg.type === "event" ? eventText(msg) : msg.text || "" }),
      el("time", { class: "msg-time", text: fmtClock(msg.ts) }),
    );
  }
  if (msg.type === "whisper") {
    const who = (view.names && view.names(msg.author_id)) || t("msg.supervisor");
    return el(
      "li",
      { class: "msg msg-whisper", dataset: { id } },
      el("div", { class: "msg-bubble" },
        el("p", { class: "msg-label", text: t(view.whisperKey || "msg.whisper_from", { name: who }) }),
        el("p", { class: "msg-text", text: msg.text || "" })),
      el("div", { class: "msg-meta" }, el("time", { text: fmtClock(msg.ts) })),
    );
  }
  if (msg.type === "note" || msg.direction === "internal") {
    return el(
      "li",
      { class: "msg msg-note", dataset: { id } },
      el("div", { class: "msg-bubble" }, el("p", { class: "msg-label", text: t("msg.note") }), el("p", { class: "msg-text", text: msg.text || "" })),
      el("div", { class: "msg-meta" }, el("time", { text: fmtClock(msg.ts) })),
    );
  }
  const out = msg.direction === "out";
  let author = "";
  if (out) {
    if (msg.author === "supervisor") author = t("msg.supervisor_barge", { name: (view.names && view.names(msg.author_id)) || "" });
    else if (msg.author === "bot") author = t("msg.bot");
    else if (msg.author === "notification") author = msg.author_name || t("msg.notification");
    else if (view.me && String(msg.author_id) === String(view.me)) author = "";
    else if (msg.author_id) author = (view.names && view.names(msg.author_id)) || "";
  }
  const meta = el("div", { class: "msg-meta" });
  if (author) meta.append(el("span", { class: "msg-author", text: author }));
  meta.append(el("time", { text: fmtClock(msg.ts) }));
  const st = out ? statusNode(msg, view) : null;
  if (st) meta.append(st);
  return el(
    "li",
    { class: `msg ${out ? "msg-out" : "msg-in"}${msg.author === "supervisor" ? " msg-barge" : ""}${msg.type === "template" ? " msg-template" : ""}${msg.status === "failed" ? " msg-failed" : ""}`, dataset: { id } },
    el("div", { class: "msg-bubble" }, ...body(msg)),
    meta,
  );
}
