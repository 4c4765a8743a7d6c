// The young person's chat: start or resume an anonymous conversation, write, follow it live.
import { ApiError, callApi, clockTime, el, followEvents, waitWords } from "/assets/common.js";

const API = "/api/v1";
const SESSION_KEY = "chat.conversation"; // forgotten when the tab closes (shared devices)
const DEVICE_KEY = "chat.remembered"; // only when the young person chooses "Husk samtalen"
const MAX_CHARS = 2000;
const WARN_CHARS = 1800;
const NEUTRAL_SITE = "https://www.dr.dk/";
const SENDER_NAMES = { bot: "Chatbot", counsellor: "Rådgiver", young: "Dig" };

const $ = (id) => document.getElementById(id);
const ui = {
  welcome: $("welcome"),
  serviceStatus: $("service-status"),
  start: $("start"),
  resumeForm: $("resume-form"),
  resumeCode: $("resume-code"),
  resumeError: $("resume-error"),
  conversation: $("conversation"),
  statusText: $("status-text"),
  connection: $("connection"),
  transcript: $("transcript"),
  transcriptRegion: $("transcript-region"),
  typing: $("typing"),
  composer: $("composer"),
  message: $("message"),
  send: $("send"),
  charCount: $("char-count"),
  composerError: $("composer-error"),
  askHuman: $("ask-human"),
  saveCode: $("save-code"),
  codePanel: $("code-panel"),
  codeValue: $("code-value"),
  copyCode: $("copy-code"),
  rememberDevice: $("remember-device"),
  codeFeedback: $("code-feedback"),
  quickExit: $("quick-exit"),
  emergencyToggle: $("emergency-toggle"),
  emergencyPanel: $("emergency-panel"),
  emergencyList: $("emergency-list"),
};

const state = {
  conversation: null, // {id, token}
  status: null,
  queue: null,
  messageIds: new Set(),
  pending: [], // bubbles of messages on their way, matched to the stored message by text
  stream: null,
  sending: false,
  numbers: [],
};

// -- storage ---------------------------------------------------------------------------------

function readStored() {
  for (const storage of [sessionStorage, localStorage]) {
    try {
      const stored = JSON.parse(storage.getItem(storage === sessionStorage ? SESSION_KEY : DEVICE_KEY));
      if (stored && typeof stored.id === "string" && typeof stored.token === "string") return stored;
    } catch {
      /* unreadable entry: ignore it */
    }
  }
  return null;
}

function storeConversation(conversation) {
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(conversation));
  if (localStorage.getItem(DEVICE_KEY)) localStorage.setItem(DEVICE_KEY, JSON.stringify(conversation));
}

function forgetConversation() {
  try {
    sessionStorage.removeItem(SESSION_KEY);
    localStorage.removeItem(DEVICE_KEY);
  } catch {
    /* storage disabled: nothing to forget */
  }
}

const codeOf = (conversation) => `${conversation.id}.${conversation.token}`;

function parseCode(code) {
  const trimmed = code.trim();
  const dot = trimmed.indexOf(".");
  if (dot < 1 || dot === trimmed.length - 1) return null;
  return { id: trimmed.slice(0, dot), token: trimmed.slice(dot + 1) };
}

// -- quick exit ------------------------------------------------------------------------------

function quickExit() {
  if (state.stream) state.stream.stop();
  try {
    sessionStorage.clear();
    localStorage.removeItem(DEVICE_KEY);
  } catch {
    /* leave anyway */
  }
  document.title = "";
  document.body.replaceChildren();
  // replace(): the chat does not stay in the tab's history, so "back" does not show it.
  location.replace(NEUTRAL_SITE);
}

// -- emergency numbers -------------------------------------------------------------------------

async function loadEmergencyNumbers() {
  try {
    state.numbers = await callApi(`${API}/emergency-numbers`);
  } catch {
    state.numbers = [{ id: "112", name: "Alarm 112", number: "112", tel: "112", when: "Når nogen er i fare lige nu.", hours: "Døgnåben" }];
  }
  ui.emergencyList.replaceChildren(
    ...state.numbers.map((number) =>
      el("li", { className: "emergency-item" }, [
        el("a", { className: "call", text: `Ring ${number.number}`, attrs: { href: `tel:${number.tel}` } }),
        el("p", { className: "emergency-name", text: number.name }),
        el("p", { className: "emergency-when", text: number.when }),
        el("p", { className: "emergency-hours", text: number.hours }),
      ]),
    ),
  );
}

function toggleEmergency() {
  const open = ui.emergencyPanel.hidden;
  ui.emergencyPanel.hidden = !open;
  ui.emergencyToggle.setAttribute("aria-expanded", String(open));
}

// Phone numbers the service knows become tap-to-call links inside the bubble (text nodes only).
function appendWithNumbers(container, text) {
  const known = state.numbers.filter((n) => n.number && n.tel);
  if (known.length === 0) {
    container.append(text);
    return;
  }
  const escaped = known
    .map((n) => n.number.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(/ /g, "\\s?"))
    .sort((a, b) => b.length - a.length);
  const pattern = new RegExp(`(?<![\\d])(${escaped.join("|")})(?![\\d])`, "g");
  let last = 0;
  for (const match of text.matchAll(pattern)) {
    container.append(text.slice(last, match.index));
    const digits = match[0].replace(/\s/g, "");
    const number = known.find((n) => n.number.replace(/\s/g, "") === digits);
    container.append(el("a", { text: match[0], attrs: { href: `tel:${number.tel}` } }));
    last = match.index + match[0].length;
  }
  container.append(text.slice(last));
}

// -- transcript ------------------------------------------------------------------------------

function bubble(sender, text, time, pending = false) {
  const body = el("p", { className: "bubble-text" });
  if (sender === "young") body.textContent = text;
  else appendWithNumbers(body, text);
  const meta = el("p", { className: "bubble-meta" }, [
    el("span", { className: "sender", text: SENDER_NAMES[sender] || "" }),
    time ? el("span", { text: ` · ${time}` }) : null,
    pending ? el("span", { className: "pending-note", text: " · sender …" }) : null,
  ]);
  return el("li", { className: `bubble from-${sender}${pending ? " pending" : ""}` }, [meta, body]);
}

const normalise = (text) => text.normalize("NFC").trim();

function addMessage(message) {
  if (state.messageIds.has(message.id)) return;
  state.messageIds.add(message.id);
  if (message.sender === "young") {
    const index = state.pending.findIndex((p) => p.text === normalise(message.text));
    if (index !== -1) {
      state.pending[index].node.remove();
      state.pending.splice(index, 1);
    }
  }
  const node = bubble(message.sender, message.text, clockTime(message.created_at));
  node.dataset.id = String(message.id);
  // Keep server order (ids grow); messages on their way stay last.
  const later = [...ui.transcript.querySelectorAll("li[data-id]")].find((li) => Number(li.dataset.id) > message.id);
  const firstPending = ui.transcript.querySelector("li.pending");
  ui.transcript.insertBefore(node, later || firstPending || null);
  scrollToEnd();
}

function addPending(text) {
  const node = bubble("young", text, "", true);
  ui.transcript.append(node);
  const entry = { text: normalise(text), node };
  state.pending.push(entry);
  scrollToEnd();
  return entry;
}

function dropPending(entry) {
  const index = state.pending.indexOf(entry);
  if (index !== -1) state.pending.splice(index, 1);
  entry.node.remove();
}

function scrollToEnd() {
  ui.transcriptRegion.scrollTop = ui.transcriptRegion.scrollHeight;
}

// -- status ----------------------------------------------------------------------------------

function statusLines(status, queue) {
  if (status === "bot") return ["Du taler med vores chatbot"];
  if (status === "active") return ["Du skriver med en rådgiver"];
  if (status === "closed") return ["Samtalen er afsluttet", "Skriver du igen, kommer du i kø til en rådgiver."];
  if (status === "queued") {
    if (!queue) return ["Du er i kø til en rådgiver"];
    let main = `Du er nummer ${queue.position} i køen`;
    const wait = waitWords(queue.eta_minutes);
    if (queue.shift_open) {
      if (wait) main += ` – forventet ventetid ${wait}`;
      return [main];
    }
    const next = queue.next_shift_text
      ? `Næste rådgiver er på vagt ${queue.next_shift_text}`
      : "Der er ingen rådgiver på vagt lige nu";
    return [main, `${next}. Du kan blive her og skrive imens.`];
  }
  return [""];
}

function setStatus(status, queue) {
  const changed = status !== state.status || JSON.stringify(queue) !== JSON.stringify(state.queue);
  state.status = status;
  state.queue = queue;
  ui.conversation.dataset.status = status;
  ui.askHuman.hidden = !(status === "bot" || status === "closed");
  if (!changed) return;
  const [main, sub] = statusLines(status, queue);
  ui.statusText.replaceChildren(el("span", { className: "status-main", text: main }));
  if (sub) ui.statusText.append(el("span", { className: "status-sub", text: sub }));
}

// -- talking to the service --------------------------------------------------------------------

async function sync() {
  const conversation = state.conversation;
  const view = await callApi(`${API}/conversations/${encodeURIComponent(conversation.id)}`, { token: conversation.token });
  if (state.conversation !== conversation) return;
  view.messages.forEach(addMessage);
  setStatus(view.status, view.queue);
}

function follow() {
  if (state.stream) state.stream.stop();
  const { id, token } = state.conversation;
  state.stream = followEvents(`${API}/conversations/${encodeURIComponent(id)}/events`, token, {
    onOpen() {
      ui.connection.textContent = "";
      // Anything said while the stream was down comes back with one read; ids de-duplicate.
      sync().catch(() => {});
    },
    onDrop() {
      ui.connection.textContent = "Forbindelsen er afbrudt. Vi prøver at forbinde igen …";
    },
    onAuthFailed() {
      endWithMessage("Samtalen findes ikke længere. Du kan starte en ny.");
    },
    onEvent(name, data) {
      if (name === "message") addMessage(data);
      else if (name === "status" || name === "queue") setStatus(data.status, data.queue ?? null);
    },
  });
}

function showConversation() {
  ui.welcome.hidden = true;
  ui.conversation.hidden = false;
  ui.codeValue.value = codeOf(state.conversation);
  ui.rememberDevice.setAttribute("aria-pressed", String(Boolean(localStorage.getItem(DEVICE_KEY))));
}

function endWithMessage(message) {
  forgetConversation();
  if (state.stream) state.stream.stop();
  state.conversation = null;
  ui.conversation.hidden = true;
  ui.welcome.hidden = false;
  ui.resumeError.textContent = "";
  ui.serviceStatus.textContent = message;
}

async function startConversation() {
  ui.start.disabled = true;
  ui.serviceStatus.textContent = "Starter chatten …";
  try {
    const created = await callApi(`${API}/conversations`, { method: "POST" });
    state.conversation = { id: created.id, token: created.token };
    storeConversation(state.conversation);
    showConversation();
    created.messages.forEach(addMessage);
    setStatus(created.status, null);
    follow();
    ui.message.focus();
  } catch (error) {
    ui.serviceStatus.textContent = error instanceof ApiError ? error.message : "Chatten kunne ikke starte. Prøv igen om lidt.";
  } finally {
    ui.start.disabled = false;
  }
}

async function resume(conversation, { fromCode = false } = {}) {
  state.conversation = conversation;
  try {
    await sync();
  } catch (error) {
    state.conversation = null;
    if (error instanceof ApiError && (error.status === 404 || error.status === 401 || error.status === 422)) {
      if (fromCode) {
        ui.resumeError.textContent = "Koden passer ikke til en samtale. Tjek, at du har skrevet hele koden.";
      } else {
        endWithMessage("Din tidligere samtale findes ikke længere. Du kan starte en ny.");
      }
      return false;
    }
    // No connection: show what we can and let the stream keep trying.
    state.conversation = conversation;
    ui.connection.textContent = error.message;
  }
  storeConversation(conversation);
  showConversation();
  follow();
  return true;
}

function updateCharCount() {
  const length = ui.message.value.length;
  ui.composer.classList.toggle("too-long", length > MAX_CHARS);
  ui.charCount.textContent = length > WARN_CHARS ? `${length} af højst ${MAX_CHARS} tegn` : "";
  if (length <= MAX_CHARS && ui.composerError.dataset.kind === "length") {
    ui.composerError.textContent = "";
    delete ui.composerError.dataset.kind;
  }
}

function showComposerError(message, kind = "send") {
  ui.composerError.textContent = message;
  ui.composerError.dataset.kind = kind;
}

async function sendMessage() {
  const text = ui.message.value;
  if (state.sending || !state.conversation) return;
  if (!text.trim()) {
    showComposerError("Skriv en besked først.", "empty");
    ui.message.focus();
    return;
  }
  if (text.length > MAX_CHARS) {
    showComposerError(`Beskeden er for lang (${text.length} tegn, højst ${MAX_CHARS}). Del den gerne op i flere beskeder.`, "length");
    ui.message.focus();
    return;
  }
  showComposerError("", "none");
  state.sending = true;
  ui.send.disabled = true;
  ui.message.value = "";
  updateCharCount();
  const pending = addPending(text);
  const botAnswers = state.status === "bot" || state.status === "queued" || state.status === "closed";
  ui.typing.hidden = !botAnswers;
  const { id, token } = state.conversation;
  try {
    const turn = await callApi(`${API}/conversations/${encodeURIComponent(id)}/messages`, {
      method: "POST",
      token,
      body: { text },
    });
    turn.messages.forEach(addMessage);
    setStatus(turn.status, turn.queue);
    // The stored copy of the young person's own message normally arrives on the stream; if the
    // stream is down, one read brings it.
    if (state.pending.includes(pending)) sync().catch(() => {});
  } catch (error) {
    dropPending(pending);
    // A message that was not sent goes back in the box, in front of anything typed meanwhile.
    ui.message.value = ui.message.value ? `${text}\n${ui.message.value}` : text;
    updateCharCount();
    showComposerError(
      error instanceof ApiError && error.status !== 0
        ? `Beskeden blev ikke sendt: ${error.message}`
        : "Beskeden blev ikke sendt, fordi der ikke er forbindelse. Den står stadig i feltet – prøv igen om lidt.",
    );
  } finally {
    state.sending = false;
    ui.send.disabled = false;
    ui.typing.hidden = true;
  }
}

async function askForCounsellor() {
  if (!state.conversation) return;
  ui.askHuman.disabled = true;
  const { id, token } = state.conversation;
  try {
    const turn = await callApi(`${API}/conversations/${encodeURIComponent(id)}/handoff`, { method: "POST", token });
    turn.messages.forEach(addMessage);
    setStatus(turn.status, turn.queue);
  } catch (error) {
    showComposerError(error instanceof ApiError ? error.message : "Det lykkedes ikke. Prøv igen om lidt.");
  } finally {
    ui.askHuman.disabled = false;
  }
}

async function loadServiceStatus() {
  try {
    const status = await callApi(`${API}/service-status`);
    if (status.shift_open) {
      const until = status.current_shift_end_text ? ` til ${status.current_shift_end_text}` : "";
      ui.serviceStatus.textContent = `Der er rådgivere på vagt nu${until}.`;
    } else if (status.next_shift_text) {
      ui.serviceStatus.textContent = `Der er ingen rådgiver på vagt lige nu. Næste rådgiver er på vagt ${status.next_shift_text}. Du kan stadig skrive – chatbotten svarer med det samme, og en rådgiver svarer dig, når vagten starter.`;
    } else {
      ui.serviceStatus.textContent = "Der er ingen rådgiver på vagt lige nu. Chatbotten svarer med det samme.";
    }
  } catch {
    ui.serviceStatus.textContent = "";
  }
}

// -- wiring ----------------------------------------------------------------------------------

ui.quickExit.addEventListener("click", quickExit);
ui.emergencyToggle.addEventListener("click", toggleEmergency);
ui.start.addEventListener("click", startConversation);
ui.resumeForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const conversation = parseCode(ui.resumeCode.value);
  if (!conversation) {
    ui.resumeError.textContent = "Koden ser ikke rigtig ud. Den består af to dele med et punktum imellem.";
    return;
  }
  ui.resumeError.textContent = "";
  if (await resume(conversation, { fromCode: true })) ui.message.focus();
});
ui.composer.addEventListener("submit", (event) => {
  event.preventDefault();
  sendMessage();
});
ui.message.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    sendMessage();
  }
});
ui.message.addEventListener("input", updateCharCount);
ui.askHuman.addEventListener("click", askForCounsellor);
ui.saveCode.addEventListener("click", () => {
  const open = ui.codePanel.hidden;
  ui.codePanel.hidden = !open;
  ui.saveCode.setAttribute("aria-expanded", String(open));
  if (open) ui.codeValue.select();
});
ui.copyCode.addEventListener("click", async () => {
  try {
    await navigator.clipboard.writeText(ui.codeValue.value);
    ui.codeFeedback.textContent = "Koden er kopieret. Gem den et sikkert sted.";
  } catch {
    ui.codeValue.select();
    ui.codeFeedback.textContent = "Koden er markeret – kopiér den selv, og gem den et sikkert sted.";
  }
});
ui.rememberDevice.addEventListener("click", () => {
  const remembered = Boolean(localStorage.getItem(DEVICE_KEY));
  if (remembered) {
    localStorage.removeItem(DEVICE_KEY);
    ui.codeFeedback.textContent = "Samtalen bliver glemt, når du lukker fanen.";
  } else {
    localStorage.setItem(DEVICE_KEY, JSON.stringify(state.conversation));
    ui.codeFeedback.textContent = "Samtalen bliver husket på denne enhed, til du trykker „Forlad siden hurtigt“.";
  }
  ui.rememberDevice.setAttribute("aria-pressed", String(!remembered));
});
window.addEventListener("offline", () => {
  ui.connection.textContent = "Du har ingen internetforbindelse lige nu. Vi forbinder igen, så snart den er tilbage.";
});
window.addEventListener("online", () => {
  if (state.stream) state.stream.reconnectNow();
});

// Numbers first: they turn into tap-to-call links inside the bubbles.
await loadEmergencyNumbers();
const stored = readStored();
if (stored) resume(stored);
else loadServiceStatus();
