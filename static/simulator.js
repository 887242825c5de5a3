// The WeChat customer simulator page: several customers side by side, every reply live (template
// messages as WeChat's cards); a customer can follow and unfollow the account.
// Plain ES module, no build. All user text goes through textContent, never innerHTML.

const config = JSON.parse(document.getElementById("sim-config").textContent);
const prefix = config.prefix;
const STORE_KEY = "kefu.simulator.customers";
const phones = new Map(); // openid -> {root, chat, error, typing, menu}
// The Official Account's menu ({button: [...]}, WeChat's shape): the published one, live.
let menu = config.menu;

// ---- customers, kept in localStorage so a reload keeps the cast ----
function loadCustomers() {
  try {
    const saved = JSON.parse(localStorage.getItem(STORE_KEY) || "null");
    if (Array.isArray(saved) && saved.length) return saved;
  } catch (_) { /* ignore a corrupt entry */ }
  return [
    { nickname: "张三", openid: "o_sim_zhangsan" },
    { nickname: "李四", openid: "o_sim_lisi" },
  ];
}
let customers = loadCustomers();
function saveCustomers() { localStorage.setItem(STORE_KEY, JSON.stringify(customers)); }

function randomOpenid() {
  const bytes = crypto.getRandomValues(new Uint8Array(9));
  return "o_sim_" + Array.from(bytes, (b) => b.toString(36).padStart(2, "0")).join("").slice(0, 16);
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

function timeLabel(ts) {
  const d = ts ? new Date(ts * 1000) : new Date();
  return d.toLocaleTimeString("zh-CN", { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

const MEDIA_LABELS = {
  image: "[图片]", voice: "[语音]", video: "[视频]", shortvideo: "[小视频]", news: "[图文消息]",
  msgmenu: "[菜单消息]", location: "[位置]", link: "[链接]", file: "[文件]",
};
const EVENT_LABELS = {
  subscribe: "关注了公众号", unsubscribe: "取消了关注", SCAN: "扫描了二维码", CLICK: "点击了菜单",
  VIEW: "打开了菜单链接", LOCATION: "上报了位置",
};

function mediaUrl(mediaId) { return `${prefix}/media/${encodeURIComponent(mediaId)}`; }

function addImage(bubble, src) {
  const img = el("img");
  img.alt = "图片";
  img.loading = "lazy";
  img.src = src;
  bubble.replaceChildren(img);
}

// ---- rendering one platform event into a phone ----
function render(event) {
  const phone = phones.get(event.openid);
  if (!phone) return;
  if (event.kind === "typing") {
    phone.typing.hidden = !event.typing;
    return;
  }
  phone.typing.hidden = true;
  let item;
  if (event.kind === "customer" && event.msgtype === "event") {
    const label = EVENT_LABELS[event.event] || event.event;
    item = el("li", "msg event");
    let detail = "";
    if (event.event === "CLICK" || event.event === "VIEW") {
      const value = (event.text || "").replace(/^\[[a-z]+\] /, "");
      const menuItem = menuItems().find((m) => m.key === value || m.url === value);
      detail = ` · ${menuItem ? menuItem.name : value}`;
      if (event.event === "VIEW" && menuItem) detail += ` (${value})`;
    }
    item.append(el("div", "bubble", label + detail));
  } else if (event.kind === "customer") {
    item = el("li", "msg out");
    const bubble = el("div", "bubble", event.text);
    if (event.msgtype === "image" && event.media_id) addImage(bubble, mediaUrl(event.media_id));
    item.append(bubble, el("div", "meta", timeLabel(event.ts)));
  } else if (event.kind === "template") {
    // A template message, as WeChat shows it: the account's card with the title, each field
    // "label value" (in its colour), and 详情 when it links somewhere.
    item = el("li", "msg in template");
    const card = el("div", "bubble tpl-card");
    card.append(el("div", "tpl-title", event.title));
    const fields = el("dl", "tpl-fields");
    for (const f of event.fields || []) {
      const dd = el("dd", "", f.value);
      if (f.color && /^#[0-9a-f]{6}$/i.test(f.color)) dd.style.color = f.color;
      fields.append(el("dt", "", f.label), dd);
    }
    card.append(fields);
    if (event.url) {
      const more = el("a", "tpl-more", "详情");
      more.href = event.url;
      more.target = "_blank";
      more.rel = "noopener noreferrer";
      card.append(more);
    }
    item.append(card, el("div", "meta", timeLabel(event.ts)));
  } else if (event.kind === "system") {
    item = el("li", "msg system");
    item.append(el("div", "bubble", event.text));
  } else {
    // a reply: passive (answer to the webhook) or api (customer-service message)
    item = el("li", `msg in ${event.kind === "api" ? "api" : "passive"}`);
    let text = event.text;
    if (text === undefined || text === null) {
      text = MEDIA_LABELS[event.msgtype] || `[${event.msgtype}]`;
      if (event.msgtype === "msgmenu" && event.payload) {
        const p = event.payload;
        text = [p.head_content, ...(p.list || []).map((i) => `· ${i.content}`), p.tail_content].filter(Boolean).join("\n");
      } else if (event.msgtype === "news" && event.payload && event.payload.articles) {
        text = event.payload.articles.map((a) => `📰 ${a.title || ""}\n${a.description || ""}`).join("\n\n");
      }
    }
    const bubble = el("div", "bubble", text);
    if (event.msgtype === "image" && event.media) addImage(bubble, mediaUrl(event.media));
    item.append(bubble, el("div", "meta", timeLabel(event.ts)));
  }
  phone.chat.append(item);
  phone.chat.scrollTop = phone.chat.scrollHeight;
}

// ---- the phone's text messages (短信): the demo bank's verification codes, shown as a phone does ----
function addSms(phone, sms, notify) {
  const item = el("li", "sms-item");
  item.append(el("div", "sms-meta", `${sms.phone} · ${timeLabel(sms.ts)}`), el("div", "sms-body", sms.text));
  phone.smsList.prepend(item);
  phone.smsCount.textContent = String(phone.smsList.children.length);
  if (!notify) return;
  phone.sms.querySelector(".sms-from").textContent = ` · 发送至 ${sms.phone}`;
  phone.sms.querySelector(".sms-text").textContent = sms.text;
  phone.sms.hidden = false;
}

async function loadSms(openid) {
  const phone = phones.get(openid);
  if (!phone) return;
  const res = await fetch(`${prefix}/api/sms?openid=${encodeURIComponent(openid)}`);
  if (!res.ok) return;
  const data = await res.json();
  phone.smsList.replaceChildren();
  phone.smsCount.textContent = "0";
  for (const sms of data.messages || []) addSms(phone, sms, false);
}

// ---- the menu bar under each phone, drawn from the published menu ----
function menuItems() {
  const items = [];
  for (const b of (menu && menu.button) || []) {
    if (b.sub_button && b.sub_button.length) items.push(...b.sub_button);
    else items.push(b);
  }
  return items;
}

function drawMenu(openid) {
  const phone = phones.get(openid);
  if (!phone) return;
  const bar = phone.menu;
  bar.replaceChildren();
  const tap = (path, item) => {
    bar.querySelectorAll(".menu-pop").forEach((p) => { p.hidden = true; });
    // Published: the simulator sends what WeChat sends for that button (CLICK key / VIEW url).
    if (menu.published) send(openid, { type: "menu", path });
    else send(openid, { type: "click", key: item.key });
  };
  (menu.button || []).forEach((b, i) => {
    const cell = el("div", "menu-cell");
    const subs = b.sub_button || [];
    const button = el("button", "", subs.length ? `≡ ${b.name}` : b.name);
    button.type = "button";
    button.title = subs.length ? "" : (b.key || b.url || "");
    cell.append(button);
    if (subs.length) {
      const pop = el("ul", "menu-pop");
      pop.hidden = true;
      subs.forEach((s, j) => {
        const li = el("li");
        const sb = el("button", "", s.name);
        sb.type = "button";
        sb.title = s.key || s.url || "";
        sb.addEventListener("click", () => tap([i, j], s));
        li.append(sb);
        pop.append(li);
      });
      button.setAttribute("aria-expanded", "false");
      button.addEventListener("click", () => {
        pop.hidden = !pop.hidden;
        button.setAttribute("aria-expanded", String(!pop.hidden));
      });
      cell.append(pop);
    } else {
      button.addEventListener("click", () => tap([i], b));
    }
    bar.append(cell);
  });
}

// ---- talking to the simulator API ----
async function send(openid, payload) {
  const phone = phones.get(openid);
  if (phone) phone.error.hidden = true;
  try {
    const res = await fetch(`${prefix}/api/send`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      // The nickname is what WeChat's user-info API answers for this customer.
      body: JSON.stringify({ openid, nickname: phone ? phone.nickname : undefined, ...payload }),
    });
    if (!res.ok) {
      const body = await res.json().catch(() => ({}));
      throw new Error((body.error && body.error.message) || `HTTP ${res.status}`);
    }
  } catch (err) {
    if (phone) {
      phone.error.textContent = `发送失败：${err.message}`;
      phone.error.hidden = false;
    }
  }
}

async function loadTimeline(openid) {
  const phone = phones.get(openid);
  if (!phone) return;
  const res = await fetch(`${prefix}/api/replies?openid=${encodeURIComponent(openid)}`);
  if (!res.ok) return;
  const data = await res.json();
  phone.chat.replaceChildren();
  for (const event of data.timeline || []) render(event);
}

// ---- phones ----
function addPhone(customer) {
  const root = document.getElementById("phone-template").content.firstElementChild.cloneNode(true);
  root.dataset.openid = customer.openid;
  root.querySelector(".phone-name").textContent = customer.nickname;
  root.querySelector(".phone-openid").textContent = customer.openid;
  const chat = root.querySelector(".phone-chat");
  const error = root.querySelector(".phone-error");
  const typing = el("div", "typing", "对方正在输入…");
  typing.hidden = true;
  const phone = { root, chat, error, typing, nickname: customer.nickname, menu: root.querySelector(".phone-menu"),
    sms: root.querySelector(".phone-sms"), smsList: root.querySelector(".sms-list"), smsCount: root.querySelector(".sms-count") };
  phones.set(customer.openid, phone);
  phone.sms.querySelector(".sms-close").addEventListener("click", () => { phone.sms.hidden = true; });

  const form = root.querySelector(".phone-input");
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const input = form.elements.text;
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    send(customer.openid, { type: "text", text });
  });
  root.querySelector(".btn-image").addEventListener("click", () => send(customer.openid, { type: "image" }));
  root.querySelector(".btn-sub").addEventListener("click", () => send(customer.openid, { type: "subscribe" }));
  root.querySelector(".btn-unsub").addEventListener("click", () => send(customer.openid, { type: "unsubscribe" }));
  root.querySelector(".btn-remove").addEventListener("click", () => {
    phones.delete(customer.openid);
    customers = customers.filter((c) => c.openid !== customer.openid);
    saveCustomers();
    root.remove();
  });
  document.getElementById("phones").append(root);
  drawMenu(customer.openid);
  chat.after(typing);
  loadTimeline(customer.openid);
  loadSms(customer.openid);
}

document.getElementById("add-customer").addEventListener("submit", (e) => {
  e.preventDefault();
  const form = e.currentTarget;
  const nickname = form.elements.nickname.value.trim();
  const openid = form.elements.openid.value.trim() || randomOpenid();
  if (!nickname || phones.has(openid)) return;
  const customer = { nickname, openid };
  customers.push(customer);
  saveCustomers();
  addPhone(customer);
  form.reset();
});

// ---- live events ----
const status = document.getElementById("ws-status");
let retryMs = 500;
function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const ws = new WebSocket(`${scheme}://${location.host}${prefix}/ws`);
  ws.addEventListener("open", () => {
    status.dataset.state = "open";
    status.textContent = "已连接";
    retryMs = 500;
    // anything that happened while we were away, the menu too
    for (const openid of phones.keys()) { loadTimeline(openid); loadSms(openid); }
    fetch(`${prefix}/api/menu`).then((r) => (r.ok ? r.json() : null)).then((m) => {
      // Redrawn only when it changed: a redraw closes a sub-menu the person just opened.
      if (!m || JSON.stringify(m) === JSON.stringify(menu)) return;
      menu = m;
      for (const openid of phones.keys()) drawMenu(openid);
    }).catch(() => {});
  });
  ws.addEventListener("message", (e) => {
    let event;
    try { event = JSON.parse(e.data); } catch (_) { return; }
    if (event.kind === "menu") {
      // menu/create (or delete) on the platform: every phone shows the new menu at once.
      menu = event.menu ? { ...event.menu, published: true } : { button: [], published: true };
      for (const openid of phones.keys()) drawMenu(openid);
    } else if (event.kind === "sms") {
      const phone = phones.get(event.openid);
      if (phone) addSms(phone, event, true);
    } else if (event.kind !== "hello") render(event);
  });
  ws.addEventListener("close", () => {
    status.dataset.state = "closed";
    status.textContent = "已断开，重连中…";
    setTimeout(connect, retryMs);
    retryMs = Math.min(retryMs * 2, 10000);
  });
}

for (const customer of customers) addPhone(customer);
connect();
