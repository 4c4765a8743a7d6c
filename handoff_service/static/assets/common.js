// Shared by the chat and the dashboard: JSON calls with a bearer token, a Server-Sent Events
// reader over fetch() (EventSource cannot send an Authorization header, and tokens never go in
// URLs), and small DOM helpers that only ever set text, never HTML.

export class ApiError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status; // 0 = no connection
  }
}

const NO_CONNECTION = "Der er ingen forbindelse lige nu. Tjek din internetforbindelse og prøv igen.";
const SERVER_TROUBLE = "Tjenesten har et midlertidigt problem. Prøv igen om lidt.";

// `idempotencyKey`: the same key on a retry makes the service return the first result.
// `credentials`: "omit" (no cookies) except the staff login, refresh and logout, which send and
// receive the HttpOnly refresh cookie ("same-origin"; assets/staff.js).
export async function callApi(
  path,
  { method = "GET", token = null, body = undefined, signal, idempotencyKey, credentials = "omit" } = {},
) {
  const headers = { Accept: "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (idempotencyKey) headers["Idempotency-Key"] = idempotencyKey;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
      credentials,
      signal,
    });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(NO_CONNECTION, 0);
  }
  if (response.status === 204) return null;
  let payload = null;
  try {
    payload = await response.json();
  } catch {
    payload = null;
  }
  if (!response.ok) {
    // The service answers {detail: "<kort dansk forklaring>"}; anything else gets a plain sentence.
    const detail = payload && typeof payload.detail === "string" ? payload.detail : SERVER_TROUBLE;
    throw new ApiError(detail, response.status);
  }
  return payload;
}

// Follows an SSE endpoint until stop() is called. Reconnects by itself with growing, randomised
// pauses (up to 1, 2, 4 ... 20 s: "full jitter", so a hundred pages that lost the service at the
// same moment do not all come back at the same moment) and calls onOpen on every (re)connect so
// the caller can re-sync with GET. When the service shuts down it sends `reconnect` with
// `retry_ms`: the page comes back after a random pause within that window, without a backoff.
// onAuthFailed is called (and the stream stops) when the server refuses the token.
export function followEvents(path, token, { onEvent, onOpen, onDrop, onAuthFailed }) {
  let stopped = false;
  let controller = null;
  let attempt = 0;
  let timer = null;
  let askedToReconnectWithin = 0;

  function handle(event, data) {
    if (event === "reconnect") {
      askedToReconnectWithin = Number(data && data.retry_ms) || 1000;
      return;
    }
    onEvent(event, data);
  }

  async function connect() {
    if (stopped) return;
    controller = new AbortController();
    try {
      const response = await fetch(path, {
        headers: { Authorization: `Bearer ${token}`, Accept: "text/event-stream" },
        cache: "no-store",
        credentials: "omit",
        signal: controller.signal,
      });
      if (response.status === 401 || response.status === 403 || response.status === 404) {
        stopped = true;
        if (onAuthFailed) onAuthFailed(response.status);
        return;
      }
      if (!response.ok || !response.body) throw new Error(`stream answered ${response.status}`);
      attempt = 0;
      if (onOpen) onOpen();
      await readStream(response.body, handle);
      throw new Error("stream ended");
    } catch (error) {
      if (stopped) return;
      let pause;
      if (askedToReconnectWithin) {
        // A planned restart: back soon, spread over the window the service gave.
        pause = 200 + Math.random() * askedToReconnectWithin;
        askedToReconnectWithin = 0;
      } else {
        if (onDrop) onDrop(error);
        pause = Math.random() * Math.min(20000, 1000 * 2 ** attempt);
        attempt += 1;
      }
      timer = setTimeout(connect, pause);
    }
  }

  connect();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
      if (controller) controller.abort();
    },
    reconnectNow() {
      if (stopped) return;
      clearTimeout(timer);
      attempt = 0;
      if (controller) controller.abort(); // the catch above schedules the next attempt
    },
  };
}

async function readStream(body, onEvent) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let boundary;
    while ((boundary = buffer.search(/\r?\n\r?\n/)) !== -1) {
      const block = buffer.slice(0, boundary);
      buffer = buffer.slice(boundary).replace(/^\r?\n\r?\n/, "");
      dispatch(block, onEvent);
    }
  }
}

function dispatch(block, onEvent) {
  let name = "message";
  const data = [];
  for (const line of block.split(/\r?\n/)) {
    if (line === "" || line.startsWith(":")) continue; // keep-alive comments
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") name = value;
    else if (field === "data") data.push(value);
  }
  if (data.length === 0) return;
  let parsed;
  try {
    parsed = JSON.parse(data.join("\n"));
  } catch {
    return;
  }
  onEvent(name, parsed);
}

// Creates an element with text content only. Nothing from the API ever goes through innerHTML.
export function el(tag, { className, text, attrs } = {}, children = []) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (attrs) for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  for (const child of children) if (child) node.append(child);
  return node;
}

const CLOCK = new Intl.DateTimeFormat("da-DK", { hour: "2-digit", minute: "2-digit" });

export function clockTime(isoString) {
  const moment = new Date(isoString);
  return Number.isNaN(moment.getTime()) ? "" : CLOCK.format(moment);
}

// Minutes for short waits, hours for long ones: "ca. 15 min", "ca. 9 timer", "ca. 3 dage".
export function waitWords(minutes) {
  if (minutes === null || minutes === undefined) return null;
  if (minutes < 1) return "under 1 min";
  if (minutes < 60) return `ca. ${minutes} min`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return hours === 1 ? "ca. 1 time" : `ca. ${hours} timer`;
  return `ca. ${Math.round(hours / 24)} dage`;
}
