// Shared by the staff pages (dashboard, trainer, admin): where each role starts, the login kept
// in this tab's sessionStorage (never in a URL, never in a cookie), and the two refusals told
// apart in Danish: 401 = not logged in, expired or wrong; 403 = logged in, but this role has no
// access to the page.
import { ApiError, callApi } from "/assets/common.js";

export const API = "/api/v1";
export const TOKEN_KEY = "counsellor.token"; // the dashboard's key since the first version
const OPEN_KEY = "counsellor.open";

export const START_PAGES = { counsellor: "/counsellor", trainer: "/traener", admin: "/admin" };
export const ROLE_WORDS = { counsellor: "rådgiver", trainer: "træner", admin: "admin" };
export const START_PAGE_NAMES = {
  counsellor: "rådgiverpanelet",
  trainer: "trænersiden",
  admin: "admin-siderne",
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

export function forgetLogin() {
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(OPEN_KEY);
}

// Logs out on the service (every token of this user stops) and goes back to the login.
export async function logOut(token) {
  if (token) {
    try {
      await callApi(`${API}/auth/logout`, { method: "POST", token });
    } catch {
      /* logged out locally either way */
    }
  }
  forgetLogin();
  location.replace("/counsellor");
}

// A page for some roles only. Shows `gate` (heading, text, a link) instead of the page when the
// login is missing, expired or for another role, and tells the page about later refusals.
export class StaffSession {
  constructor({ roles, pageName, gate }) {
    this.roles = roles;
    this.pageName = pageName;
    this.gate = gate; // {section, heading, text, link, content, tools, who}
    this.token = storedToken();
    this.me = null;
  }

  async start() {
    if (!this.token) {
      this.refuse(401, NOT_LOGGED_IN);
      return null;
    }
    try {
      this.me = await callApi(`${API}/auth/me`, { token: this.token });
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
      return await callApi(path, { ...options, token: this.token });
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
      if (status === 401) {
        forgetLogin();
        this.token = null;
      }
      heading.textContent = status === 401 ? "Log ind" : "Siden kunne ikke åbne";
      text.textContent = message;
      link.textContent = status === 401 ? "Gå til login" : "Prøv igen";
      link.href = status === 401 ? "/counsellor" : location.pathname;
      tools.hidden = status === 401 || !this.me;
    }
    heading.focus();
  }
}
