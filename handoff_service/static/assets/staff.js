// Shared by the staff pages (dashboard, trainer, admin): where each role starts, the login kept
// in this tab's sessionStorage (never in a URL), and the two refusals told apart in Danish:
// 401 = not logged in, expired or wrong; 403 = logged in, but this role has no access to the page.
//
// Sessions that last a shift: the short access token lives in sessionStorage; the refresh token
// is an HttpOnly cookie on /api/v1/auth the page never sees. A minute before the access token
// runs out, and on any 401, the page asks POST /api/v1/auth/refresh once (one refresh at a time,
// across tabs too: navigator.locks) and retries; only when that fails the login is over.
import { ApiError, callApi } from "/assets/common.js";

export const API = "/api/v1";
export const TOKEN_KEY = "counsellor.token"; // the dashboard's key since the first version
const OPEN_KEY = "counsellor.open";
const EXPIRES_KEY = "counsellor.token.expires"; // when the access token runs out (ms, this clock)
const REFRESH_AHEAD_MS = 60000;

export const START_PAGES = { counsellor: "/counsellor", trainer: "/trainer", admin: "/admin", leader: "/statistics" };
export const ROLE_WORDS = { counsellor: "rådgiver", trainer: "træner", admin: "admin", leader: "leder" };
export const START_PAGE_NAMES = {
  counsellor: "rådgiverpanelet",
  trainer: "trænersiden",
  admin: "admin-siderne",
  leader: "statistiksiden",
};

export const NOT_LOGGED_IN = "Du er ikke logget ind. Log ind for at fortsætte.";
export const EXPIRED = "Dit login er udløbet eller ikke gyldigt længere. Log ind igen for at fortsætte.";

export function startPage(role) {
  return START_PAGES[role] || "/counsellor";
}

// "Du er logget ind som træner, og den rolle giver ikke adgang til admin-siderne."
export function noAccessText(role, pageName) {
  const words = ROLE_WORDS[role];
  const who = words ? `Du er logget ind som ${words}, og den rolle` : "Din rolle";
  return `${who} giver ikke adgang til ${pageName}.`;
}

export function storedToken() {
  return sessionStorage.getItem(TOKEN_KEY);
}

const tokenListeners = new Set();
let refreshTimer = null;
let refreshing = null;

// Told the new access token after every login and refresh (the dashboard keeps its own copy).
export function onTokenChange(listener) {
  tokenListeners.add(listener);
}

// A login or refresh answer ({access_token, expires_in}): kept in this tab, renewed in time.
export function rememberLogin(result) {
  sessionStorage.setItem(TOKEN_KEY, result.access_token);
  sessionStorage.setItem(EXPIRES_KEY, String(Date.now() + result.expires_in * 1000));
  scheduleRefresh();
  for (const listener of tokenListeners) listener(result.access_token);
}

// Refreshes a minute before the access token runs out (after a reload too).
export function scheduleRefresh() {
  clearTimeout(refreshTimer);
  const expires = Number(sessionStorage.getItem(EXPIRES_KEY));
  if (!storedToken() || !expires) return;
  refreshTimer = setTimeout(() => refreshLogin(), Math.max(0, expires - Date.now() - REFRESH_AHEAD_MS));
}

// The new access token, or null when the login is over (no cookie, expired, reused, logged out).
export function refreshLogin() {
  if (!refreshing) {
    const run = async () => {
      try {
        const result = await callApi(`${API}/auth/refresh`, { method: "POST", credentials: "same-origin" });
        rememberLogin(result);
        return result.access_token;
      } catch {
        return null;
      }
    };
    // Two tabs share the cookie: one refresh at a time, or the second would look like a reuse.
    const once = navigator.locks ? navigator.locks.request("staff-refresh", run) : run();
    refreshing = once.finally(() => {
      refreshing = null;
    });
  }
  return refreshing;
}

// callApi with this tab's access token; a 401 refreshes once and tries again.
export async function sessionCall(path, options = {}) {
  try {
    return await callApi(path, { ...options, token: storedToken() });
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 401 || !storedToken()) throw error;
    const token = await refreshLogin();
    if (!token) throw error;
    return callApi(path, { ...options, token });
  }
}

export function forgetLogin() {
  clearTimeout(refreshTimer);
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(EXPIRES_KEY);
  sessionStorage.removeItem(OPEN_KEY);
}

// Logs out on the service (every login of this user ends, the refresh cookie is cleared) and goes
// back to the login.
export async function logOut() {
  clearTimeout(refreshTimer);
  if (storedToken()) {
    try {
      await sessionCall(`${API}/auth/logout`, { method: "POST", credentials: "same-origin" });
    } catch {
      /* logged out locally either way */
    }
  }
  forgetLogin();
  location.replace("/counsellor");
}

// A page for some roles only. Shows `gate` (heading, text, a link) instead of the page when the
// login is missing, expired or for another role, and tells the page about later refusals.
// The elements every staff page has for its gate and session tools (admin.html, statistics.html,
// traener.html use these ids).
function standardGate() {
  const byId = (id) => document.getElementById(id);
  return {
    section: byId("gate"),
    heading: byId("gate-heading"),
    text: byId("gate-text"),
    link: byId("gate-link"),
    content: byId("content"),
    tools: byId("session-tools"),
    who: byId("who"),
  };
}

export class StaffSession {
  constructor({ roles, pageName, gate = standardGate() }) {
    this.roles = roles;
    this.pageName = pageName;
    this.gate = gate; // {section, heading, text, link, content, tools, who}
    this.me = null;
  }

  get token() {
    return storedToken();
  }

  async start() {
    if (!this.token) {
      this.refuse(401, NOT_LOGGED_IN);
      return null;
    }
    scheduleRefresh();
    try {
      this.me = await sessionCall(`${API}/auth/me`);
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) this.refuse(401, EXPIRED);
      else this.refuse(0, error instanceof ApiError ? error.message : "Siden kunne ikke åbne. Prøv igen om lidt.");
      return null;
    }
    if (this.gate.who) this.gate.who.textContent = `Logget ind som ${this.me.username}`;
    if (!this.roles.includes(this.me.role)) {
      this.refuse(403);
      return null;
    }
    return this.me;
  }

  // Every call of the page goes through here: a 401 or 403 replaces the page with the gate.
  async call(path, options = {}) {
    try {
      return await sessionCall(path, options);
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) this.refuse(401, EXPIRED);
      else if (error instanceof ApiError && error.status === 403) this.refuse(403);
      throw error;
    }
  }

  refuse(status, message) {
    const { section, heading, text, link, content, tools } = this.gate;
    content.hidden = true;
    section.hidden = false;
    if (status === 403) {
      const role = this.me && this.me.role;
      heading.textContent = "Ingen adgang til denne side";
      text.textContent = `${noAccessText(role, this.pageName)} Spørg en admin, hvis du skal have en anden rolle.`;
      link.textContent = role ? `Gå til ${START_PAGE_NAMES[role] || "din startside"}` : "Gå til login";
      link.href = role ? startPage(role) : "/counsellor";
      tools.hidden = !role;
    } else {
      if (status === 401) forgetLogin();
      heading.textContent = status === 401 ? "Log ind" : "Siden kunne ikke åbne";
      text.textContent = message;
      link.textContent = status === 401 ? "Gå til login" : "Prøv igen";
      link.href = status === 401 ? "/counsellor" : location.pathname;
      tools.hidden = status === 401 || !this.me;
    }
    heading.focus();
  }
}
