// The console's WebSocket client: hello with the token (never in the URL), resume from the last
// seq seen, request/response by id with promises, reconnect with exponential backoff and jitter,
// and event dispatch. Events with a seq at or below the last one seen are dropped, so a replay
// after resume never applies the same event twice.
//
// Heartbeat (docs/protocol.md): a cut network leaves the browser's socket "open" for minutes and
// holds what we write, so the client pings at the welcome's interval and, when no frame at all
// came for the welcome's timeout, gives the socket up and reconnects with resume. Requests left
// on a dead socket reject with "disconnected": the server may have done them, so a caller must
// not call them failed (the console resends a reply under the same client id).
const BACKOFF_FIRST_MS = 500;
const BACKOFF_MAX_MS = 15000;
const REQUEST_TIMEOUT_MS = 15000;
const HEARTBEAT_DEFAULT = { interval_s: 5, timeout_s: 15 };
// Close codes after which reconnecting cannot help (see docs/protocol.md).
const FATAL_CLOSE_CODES = new Set([4001, 4010]);

export class SocketError extends Error {
  constructor(code, message) {
    super(message || code);
    this.name = "SocketError";
    this.code = code;
  }
}

export class KefuSocket {
  constructor({ token, url } = {}) {
    this.token = token;
    this.url = url || `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`;
    this.ws = null;
    this.lastSeq = null;
    this.nextId = 1;
    this.pending = new Map();
    this.handlers = new Map();
    this.state = "idle";
    this.attempt = 0;
    this.timer = null;
    this.stopped = false;
    this.welcomed = false;
    this.heartbeat = { ...HEARTBEAT_DEFAULT };
    this.pingTimer = null;
    this.deadTimer = null;
    this._onOnline = () => this._reconnectSoon(0);
    window.addEventListener("online", this._onOnline);
  }

  // on("event:<name>" | "welcome" | "state" | "fatal" | "*", fn); returns an unsubscribe function.
  on(name, fn) {
    if (!this.handlers.has(name)) this.handlers.set(name, new Set());
    this.handlers.get(name).add(fn);
    return () => this.handlers.get(name).delete(fn);
  }

  _emit(name, ...args) {
    for (const fn of this.handlers.get(name) || []) {
      try {
        fn(...args);
      } catch (exc) {
        console.error(exc);
      }
    }
  }

  _setState(state, detail) {
    this.state = state;
    this._emit("state", state, detail);
  }

  get isOpen() {
    return this.state === "open";
  }

  connect() {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = null;
    this.welcomed = false;
    this._setState(this.attempt ? "reconnecting" : "connecting", { attempt: this.attempt });
    let ws;
    try {
      ws = new WebSocket(this.url);
    } catch (exc) {
      this._scheduleReconnect();
      return;
    }
    this.ws = ws;
    ws.addEventListener("open", () => {
      if (this.ws !== ws) return;
      ws.send(JSON.stringify({ type: "hello", token: this.token, resume: this.lastSeq }));
      this._alive(ws);
    });
    ws.addEventListener("message", (ev) => {
      if (this.ws !== ws) return;
      this._alive(ws);
      this._onFrame(ev.data);
    });
    ws.addEventListener("close", (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this._stopHeartbeat();
      this._failPending("disconnected");
      if (this.stopped) {
        this._setState("closed", { code: ev.code });
        return;
      }
      if (FATAL_CLOSE_CODES.has(ev.code)) {
        this.stopped = true;
        this._setState("closed", { code: ev.code });
        this._emit("fatal", ev.code, ev.reason);
        return;
      }
      this._scheduleReconnect(ev.code);
    });
    // An error is always followed by close; nothing to do here.
    ws.addEventListener("error", () => {});
  }

  // Any frame shows the socket alive; none for the heartbeat's timeout and it is dead.
  _alive(ws) {
    clearTimeout(this.deadTimer);
    this.deadTimer = setTimeout(() => this._dead(ws), this.heartbeat.timeout_s * 1000);
  }

  _startHeartbeat() {
    clearInterval(this.pingTimer);
    this.pingTimer = setInterval(() => {
      // The answer only matters as a frame that arrives (see _alive); a lost one is no error.
      this.request("ping", {}, { timeoutMs: this.heartbeat.timeout_s * 1000 }).catch(() => {});
    }, this.heartbeat.interval_s * 1000);
  }

  _stopHeartbeat() {
    clearInterval(this.pingTimer);
    clearTimeout(this.deadTimer);
    this.pingTimer = null;
    this.deadTimer = null;
  }

  // Give up a socket that stopped answering: its close event may take minutes on a cut network
  // and must not be waited for, so it is detached here and reconnecting starts at once.
  _dead(ws) {
    if (this.ws !== ws) return;
    this.ws = null;
    this._stopHeartbeat();
    try {
      ws.close(4000, "heartbeat timeout");
    } catch {
      // closing a socket that is already closing
    }
    this._failPending("disconnected");
    if (this.stopped) {
      this._setState("closed", { code: 4000 });
      return;
    }
    this._scheduleReconnect(4000, { dead: true });
  }

  _scheduleReconnect(code, extra = {}) {
    const base = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** this.attempt);
    const delay = Math.round(base / 2 + Math.random() * (base / 2));
    this.attempt += 1;
    this._setState("offline", { code, delayMs: delay, retryAt: Date.now() + delay, attempt: this.attempt, ...extra });
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(), delay);
  }

  _reconnectSoon() {
    if (this.stopped || this.ws) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(), 0);
  }

  // Reconnect now, e.g. from the banner's "retry now" button.
  retryNow() {
    if (this.stopped) return;
    if (this.ws) return;
    this.attempt = Math.max(0, this.attempt - 1);
    this._reconnectSoon();
  }

  _onFrame(raw) {
    let frame;
    try {
      frame = JSON.parse(raw);
    } catch {
      return;
    }
    if (frame.type === "welcome") {
      let resumed = this.lastSeq !== null;
      this.attempt = 0;
      this.welcomed = true;
      const hb = frame.heartbeat || {};
      if (hb.interval_s > 0 && hb.timeout_s > hb.interval_s) this.heartbeat = { interval_s: hb.interval_s, timeout_s: hb.timeout_s };
      this._alive(this.ws);
      this._startHeartbeat();
      // A server that lost its event log (restart) counts from a lower seq: start over from it.
      if (resumed && typeof frame.seq === "number" && frame.seq < this.lastSeq) resumed = false;
      // On resume the missed events follow the welcome; keep our cursor until they arrive.
      if (!resumed && typeof frame.seq === "number") this.lastSeq = frame.seq;
      this._setState("open");
      this._emit("welcome", frame, { resumed });
      return;
    }
    if (frame.type === "result") {
      const waiter = this.pending.get(frame.id);
      if (!waiter) return;
      this.pending.delete(frame.id);
      clearTimeout(waiter.timer);
      if (frame.ok) waiter.resolve(frame.result || {});
      else waiter.reject(new SocketError((frame.error && frame.error.code) || "error", frame.error && frame.error.message));
      return;
    }
    if (frame.type === "event") {
      if (typeof frame.seq === "number") {
        if (this.lastSeq !== null && frame.seq <= this.lastSeq) return;
        this.lastSeq = frame.seq;
      }
      if (frame.event === "resync") {
        // The server could not replay from our cursor: its fresh state replaces ours.
        const body = frame.data || {};
        if (typeof body.seq === "number") this.lastSeq = Math.max(this.lastSeq || 0, body.seq);
        this._emit("resync", body);
        return;
      }
      this._emit(`event:${frame.event}`, frame.data || {}, frame);
      this._emit("*", frame.event, frame.data || {}, frame);
    }
  }

  request(type, fields = {}, { timeoutMs = REQUEST_TIMEOUT_MS } = {}) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN || !this.welcomed) {
      return Promise.reject(new SocketError("disconnected", "not connected"));
    }
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new SocketError("timeout", "no answer from the server"));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      try {
        this.ws.send(JSON.stringify({ ...fields, type, id }));
      } catch (exc) {
        clearTimeout(timer);
        this.pending.delete(id);
        reject(new SocketError("disconnected", exc && exc.message));
      }
    });
  }

  _failPending(code) {
    for (const [id, waiter] of this.pending) {
      clearTimeout(waiter.timer);
      waiter.reject(new SocketError(code, "connection lost"));
      this.pending.delete(id);
    }
  }

  // For tests and the "reconnect" button: drop the socket as a network failure would.
  drop() {
    if (this.ws) this.ws.close(4000, "client drop");
  }

  close() {
    this.stopped = true;
    clearTimeout(this.timer);
    this._stopHeartbeat();
    window.removeEventListener("online", this._onOnline);
    if (this.ws) this.ws.close(1000, "bye");
  }
}
