// HTTP client for /api/: the bearer token from sessionStorage, JSON in and out, errors as ApiError.
const TOKEN_KEY = "kefu.token";
const USER_KEY = "kefu.user";
const EXPIRES_KEY = "kefu.expires_at";

export class ApiError extends Error {
  constructor(status, code, message, extra = {}) {
    super(message || code || `HTTP ${status}`);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    Object.assign(this, extra);
  }
}

export const auth = {
  get token() {
    return sessionStorage.getItem(TOKEN_KEY);
  },
  get user() {
    try {
      return JSON.parse(sessionStorage.getItem(USER_KEY) || "null");
    } catch {
      return null;
    }
  },
  get expiresAt() {
    const v = Number(sessionStorage.getItem(EXPIRES_KEY));
    return Number.isFinite(v) && v > 0 ? v : null;
  },
  save({ token, user, expires_at }) {
    sessionStorage.setItem(TOKEN_KEY, token);
    sessionStorage.setItem(USER_KEY, JSON.stringify(user || null));
    if (expires_at) sessionStorage.setItem(EXPIRES_KEY, String(expires_at));
  },
  setUser(user) {
    sessionStorage.setItem(USER_KEY, JSON.stringify(user || null));
  },
  clear() {
    for (const key of [TOKEN_KEY, USER_KEY, EXPIRES_KEY]) sessionStorage.removeItem(key);
    for (let i = sessionStorage.length - 1; i >= 0; i -= 1) {
      const key = sessionStorage.key(i);
      if (key && key.startsWith("kefu.draft.")) sessionStorage.removeItem(key);
    }
  },
};

let onUnauthorized = null;
// The pages register what a 401 means for them (back to the login page).
export function setUnauthorizedHandler(fn) {
  onUnauthorized = fn;
}

function retryAfterSeconds(res, body) {
  const header = res.headers.get("Retry-After");
  if (header && /^\d+(\.\d+)?$/.test(header.trim())) return Math.ceil(Number(header));
  const err = (body && body.error) || {};
  for (const key of ["retry_after", "retry_after_s", "wait_s", "wait"]) {
    if (typeof err[key] === "number") return Math.ceil(err[key]);
    if (body && typeof body[key] === "number") return Math.ceil(body[key]);
  }
  const m = /(\d+(?:\.\d+)?)\s*(?:s\b|sec|秒)/i.exec(err.message || "");
  return m ? Math.ceil(Number(m[1])) : null;
}

export async function api(path, { method = "GET", body, token = auth.token, signal } = {}) {
  const headers = { Accept: "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let res;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
      cache: "no-store",
      signal,
    });
  } catch (exc) {
    if (exc && exc.name === "AbortError") throw exc;
    throw new ApiError(0, "network", exc && exc.message);
  }
  if (res.status === 204) return null;
  let data = null;
  const text = await res.text();
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!res.ok) {
    const err = (data && data.error) || {};
    const extra = {};
    if (res.status === 429) extra.retryAfter = retryAfterSeconds(res, data);
    if (typeof err.field === "string") extra.field = err.field; // bad_field: the field refused
    if (typeof err.errcode === "number") extra.errcode = err.errcode; // wechat_error: WeChat's code
    const error = new ApiError(res.status, err.code || String(res.status), err.message || res.statusText, extra);
    if (res.status === 401 && token && path !== "/api/auth/login" && onUnauthorized) onUnauthorized(error);
    throw error;
  }
  return data;
}

export async function login(username, password) {
  const data = await api("/api/auth/login", { method: "POST", body: { username, password }, token: null });
  auth.save(data);
  return data;
}

export async function logout() {
  const token = auth.token;
  auth.clear();
  if (!token) return;
  try {
    await api("/api/auth/logout", { method: "POST", token });
  } catch {
    // the token is gone from this tab either way; the server-side revocation is best effort here
  }
}
