// The young person's chat: start or resume an anonymous conversation, write, follow it live.
import { ApiError, callApi, clockTime, el, followEvents, waitWords } from "/assets/common.js";

const API = "/api/v1";
const SESSION_KEY = "chat.conversation"; // forgotten when the tab closes (shared devices)
const DEVICE_KEY = "chat.remembered"; // only when the young person chooses "Husk samtalen"
const MAX_CHARS = 2000;
const WARN_CHARS = 1800;
const NEUTRAL_SITE = "https://www.dr.dk/";
const SENDER_NAMES = { bot: "Chatbot", counsellor: "Rådgiver", young: "Dig" };
const TYPING_EVERY_MS = 3000; // at most one "is writing" signal per 3 s, and never any text
const TYPING_SHOWN_MS = 6000; // "Rådgiveren skriver …" fades after 6 s without a new signal
const NUMBERS_FRESH_MS = 5 * 60 * 1000; // "open now" is re-read when the panel opens later
const PICKUP_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ";
const FEEDBACK_KEY = "chat.feedback.done"; // conversations whose feedback was sent or skipped
// The bot's goodbye and its answer to "tak" (bot/domain.yml: utter_goodbye, utter_thank): after
// one of them, a conversation with the bot only gets the one-question form.
const BOT_GOODBYES = ["Pas godt på dig selv", "Det var så lidt"];
const FEEDBACK_THANKS = "Tak for dit svar – det hjælper os med at gøre chatten bedre.";
let appTitle = document.title; // on /ung/<slug>: the organisation's name first
// /ung/<slug>: the page of one municipality or service (its queue, hours and local help); the
// plain / is the default organisation's page, as before.
const ORG_SLUG = (location.pathname.match(/^\/ung\/([a-z0-9][a-z0-9-]{1,39})\/?$/) || [])[1] || null;
const ORG_FRESH_MS = 5 * 60 * 1000; // "open now" is re-read when the box is opened later

const $ = (id) => document.getElementById(id);
const ui = {
  brand: $("brand"),
  pageTitle: $("page-title"),
  welcomeHeading: $("welcome-heading"),
  orgWelcome: $("org-welcome"),
  orgAbout: $("org-about"),
  welcome: $("welcome"),
  serviceStatus: $("service-status"),
  start: $("start"),
  resume: $("resume"),
  resumeForm: $("resume-form"),
  resumeSubmit: $("resume-submit"),
  resumeCode: $("resume-code"),
  resumeError: $("resume-error"),
  conversation: $("conversation"),
  statusText: $("status-text"),
  connection: $("connection"),
  notice: $("notice"),
  liveSign: $("live-sign"),
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
  closeCode: $("close-code"),
  sound: $("sound"),
  call116: $("call-116"),
  number116: $("number-116"),
  emergencyChecked: $("emergency-checked"),
  copyCode: $("copy-code"),
  rememberDevice: $("remember-device"),
  codeFeedback: $("code-feedback"),
  quickExit: $("quick-exit"),
  emergencyToggle: $("emergency-toggle"),
  emergencyPanel: $("emergency-panel"),
  emergencyList: $("emergency-list"),
  fbPanel: $("fb-panel"),
  fbForm: $("fb-form"),
  fbWriteAgain: $("fb-write-again"),
  fbRating: $("fb-rating"),
  fbError: $("fb-error"),
  fbSend: $("fb-send"),
  fbSkip: $("fb-skip"),
  fbThanks: $("fb-thanks"),
};

const state = {
  conversation: null, // {id, token, pickupCode}
  status: null,
  queue: null,
  messageIds: new Set(),
  messages: new Map(), // id -> {sender, quick_replies}: the newest decides the quick replies
  pending: [], // bubbles of messages on their way, matched to the stored message by text
  unsent: null, // {text, id} of the message that failed to send: sending that text again reuses the id
  stream: null,
  sending: false,
  numbers: [],
  numbersAt: 0,
  typingSentAt: 0,
  typingTimer: null,
  unseen: 0, // counsellor answers that arrived while the tab was hidden
  audio: null, // only when the young person switched the sound on (off by default)
  feedbackGiven: false, // from GET /conversations/{id}: answered once, never asked again
  organisation: null, // GET /organisations/{slug} on /ung/<slug>
  organisationAt: 0,
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

// The short pickup code when there is one; conversations from before it keep the long form.
const codeOf = (conversation) => conversation.pickupCode || `${conversation.id}.${conversation.token}`;

// "k7qm 3xpd-9t" -> "K7QM-3XPD-9T"; null when it cannot be a pickup code (maybe a long code).
function pickupForm(typed) {
  const compact = typed.toUpperCase().replace(/[\s\-_.·–—]+/g, "");
  if (compact.length !== 10 || [...compact].some((c) => !PICKUP_ALPHABET.includes(c))) return null;
  return `${compact.slice(0, 4)}-${compact.slice(4, 8)}-${compact.slice(8)}`;
}

function parseCode(code) {
  const trimmed = code.trim();
  const dot = trimmed.indexOf(".");
  if (trimmed.length < 40) return null;
  if (dot < 1 || dot === trimmed.length - 1) return null;
  return { id: trimmed.slice(0, dot), token: trimmed.slice(dot + 1) };
}

// -- quick exit ------------------------------------------------------------------------------

function quickExit() {
  if (state.stream) state.stream.stop();
  clearTimeout(state.typingTimer);
  if (state.audio) state.audio.close().catch(() => {});
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

const FALLBACK_NUMBERS = [
  { id: "112", name: "Alarm 112", number: "112", tel: "112", when: "Når nogen er i fare lige nu.", hours: "Døgnåben", open_now: true },
  { id: "boernetelefonen", name: "BørneTelefonen (Børns Vilkår)", number: "116 111", tel: "116111", when: "Når du er under 18 og har brug for en voksen at tale med – også om natten.", hours: "Døgnåben", open_now: true },
];

function openWords(number) {
  if (number.open_now === true) return { className: "open-now is-open", text: "Åben nu" };
  if (number.open_now === false) {
    return { className: "open-now is-closed", text: number.opens_text ? `Lukket – ${number.opens_text}` : "Lukket lige nu" };
  }
  return null; // hours unknown: neither open nor closed is claimed
}

async function loadEmergencyNumbers() {
  try {
    state.numbers = await callApi(`${API}/emergency-numbers`);
    state.numbersAt = Date.now();
    ui.emergencyChecked.textContent = `Åbningstider tjekket kl. ${clockTime(new Date().toISOString())}.`;
  } catch {
    state.numbers = state.numbers.length ? state.numbers : FALLBACK_NUMBERS;
  }
  // The bar's 116 111 link follows the content library (the one place numbers live).
  const childLine = state.numbers.find((n) => n.id === "boernetelefonen");
  if (childLine) {
    ui.call116.setAttribute("href", `tel:${childLine.tel}`);
    ui.number116.textContent = childLine.number;
  }
  ui.emergencyList.replaceChildren(
    ...state.numbers.map((number) => {
      const open = openWords(number);
      return el("li", { className: "emergency-item" }, [
        el("div", { className: "emergency-top" }, [
          el("a", { className: "call", text: `Ring ${number.number}`, attrs: { href: `tel:${number.tel}` } }),
          open ? el("p", { className: open.className, text: open.text }) : null,
        ]),
        el("p", { className: "emergency-name", text: number.name }),
        el("p", { className: "emergency-when", text: number.when }),
        el("p", { className: "emergency-hours", text: number.hours }),
      ]);
    }),
  );
}

function toggleEmergency() {
  const open = ui.emergencyPanel.hidden;
  ui.emergencyPanel.hidden = !open;
  ui.emergencyToggle.setAttribute("aria-expanded", String(open));
  // "Open now" changes with the clock: re-read it if the page has been open a while.
  if (open && Date.now() - state.numbersAt > NUMBERS_FRESH_MS) loadEmergencyNumbers();
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

// -- the organisation's page (/ung/<slug>) ---------------------------------------------------

// "mandag kl. 12-16, torsdag kl. 12-16 og kl. 19-21": one entry per weekday, in the week's order.
function hoursWords(hours) {
  const days = [];
  for (const item of [...hours].sort((a, b) => a.weekday - b.weekday)) {
    const last = days[days.length - 1];
    if (last && last.weekday === item.weekday) last.times.push(item.text);
    else days.push({ weekday: item.weekday, name: item.weekday_name, times: [item.text] });
  }
  return days
    .map((day) => `${day.name} ${day.times.length > 1 ? `${day.times.slice(0, -1).join(", ")} og ${day.times.at(-1)}` : day.times[0]}`)
    .join(", ");
}

const DATE_WORDS = new Intl.DateTimeFormat("da-DK", { day: "numeric", month: "long", timeZone: "UTC" });

function openState(org) {
  if (org.open_now) return { className: "open-now is-open", text: "Åben nu" };
  return {
    className: "open-now is-closed",
    text: org.next_opening_text ? `Lukket lige nu – åbner ${org.next_opening_text}` : "Lukket lige nu",
  };
}

// Opening hours, open now or the next opening, and the closed dates ahead.
function hoursBlock(org) {
  const open = openState(org);
  const closed = (org.closed_dates || []).slice(0, 4).map((day) => DATE_WORDS.format(new Date(`${day}T12:00:00Z`)));
  return el("div", { className: "org-hours" }, [
    el("p", { className: open.className, text: open.text }),
    el("p", {
      className: "org-hours-line",
      text: org.hours && org.hours.length ? `Åbent: ${hoursWords(org.hours)}.` : "Der er ingen faste åbningstider lige nu.",
    }),
    closed.length ? el("p", { className: "org-closed", text: `Lukket: ${closed.join(", ")}.` }) : null,
  ]);
}

// "tel:" with digits only (a leading + kept); null when there are no digits to call.
function telHref(phone) {
  const digits = phone.replace(/[^\d+]/g, "").replace(/(?!^)\+/g, "");
  return /\d{3,}/.test(digits) ? `tel:${digits}` : null;
}

// Only web addresses become links (never javascript: or the like); shown without "https://".
function webLink(url) {
  let parsed;
  try {
    parsed = new URL(url);
  } catch {
    return el("p", { className: "local-url", text: url });
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") return el("p", { className: "local-url", text: url });
  const shown = url.replace(/^https?:\/\//, "").replace(/\/$/, "");
  return el("p", { className: "local-url" }, [
    el("a", { text: shown, attrs: { href: parsed.href, target: "_blank", rel: "noopener noreferrer" } }),
  ]);
}

function localItem(item, level) {
  const href = item.phone ? telHref(item.phone) : null;
  return el("li", { className: "local-item" }, [
    el(`h${level}`, { className: "local-title", text: item.title }),
    item.text ? el("p", { text: item.text }) : null,
    item.phone
      ? el("p", { className: "local-phone" }, [
          href ? el("a", { className: "call small-call", text: `Ring ${item.phone}`, attrs: { href } }) : item.phone,
        ])
      : null,
    item.address ? el("p", { className: "local-address", text: `Adresse: ${item.address}` }) : null,
    item.url ? webLink(item.url) : null,
    item.source ? el("p", { className: "local-source", text: `Kilde: ${item.source}` }) : null,
  ]);
}

// Confidentiality and local help; `level` is the heading level inside the box.
function aboutBlocks(org, level) {
  const blocks = [];
  if (org.confidentiality) {
    blocks.push(el(`h${level}`, { className: "org-subheading", text: "Tavshedspligt" }), el("p", { className: "org-text", text: org.confidentiality }));
  }
  if (org.local_info && org.local_info.length) {
    blocks.push(
      el(`h${level}`, { className: "org-subheading", text: `Hjælp i nærheden` }),
      el("ul", { className: "local-list" }, org.local_info.map((item) => localItem(item, level + 1))),
    );
  }
  return blocks;
}

function renderOrganisation(org) {
  state.organisation = org;
  state.organisationAt = Date.now();
  appTitle = `${org.name} – skriv anonymt med en rådgiver`;
  if (!state.unseen) document.title = appTitle;
  ui.brand.textContent = org.name;
  ui.pageTitle.textContent = `Chat med en rådgiver fra ${org.name}`;
  // The welcome: the organisation's own name as the heading, its presentation and its hours.
  ui.welcomeHeading.textContent = org.name;
  const about = aboutBlocks(org, 3);
  ui.orgWelcome.replaceChildren(
    el("p", { className: "org-kicker", text: org.age_range ? `Anonym chat for unge · ${org.age_range}` : "Anonym chat for unge" }),
    org.presentation ? el("p", { className: "org-text", text: org.presentation }) : null,
    hoursBlock(org),
    about.length
      ? el("details", { className: "org-more" }, [el("summary", { text: "Tavshedspligt og hjælp i nærheden" }), ...about])
      : null,
  );
  ui.orgWelcome.hidden = false;
  // In the conversation: the same, folded under one line; open, it scrolls inside itself.
  const wasOpen = ui.orgAbout.open;
  ui.orgAbout.replaceChildren(
    el("summary", {}, [
      el("span", { className: "org-about-name", text: `Om ${org.name}` }),
      el("span", { className: `org-about-state ${org.open_now ? "is-open" : "is-closed"}`, text: org.open_now ? "Åben nu" : "Lukket nu" }),
    ]),
    el("div", { className: "org-about-body", attrs: { tabindex: "0", role: "region", "aria-label": `Om ${org.name}` } }, [
      org.age_range ? el("p", { className: "org-kicker", text: `For unge · ${org.age_range}` }) : null,
      org.presentation ? el("p", { className: "org-text", text: org.presentation }) : null,
      hoursBlock(org),
      ...aboutBlocks(org, 2),
    ]),
  );
  ui.orgAbout.open = wasOpen;
  ui.orgAbout.hidden = false;
}

async function loadOrganisation() {
  if (!ORG_SLUG) return;
  try {
    renderOrganisation(await callApi(`${API}/organisations/${encodeURIComponent(ORG_SLUG)}`));
  } catch {
    /* the page still works: the conversation starts on the slug's queue */
  }
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

function addMessage(message, { live = false } = {}) {
  if (state.messageIds.has(message.id)) return;
  state.messageIds.add(message.id);
  state.messages.set(message.id, { sender: message.sender, quickReplies: message.quick_replies || null });
  if (message.sender === "counsellor") {
    showCounsellorTyping(false);
    if (live) answerArrived();
  }
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
  renderQuickReplies();
  if (state.status) updateFeedback();
  scrollToEnd();
}

function newestMessage() {
  const ids = [...state.messages.keys()];
  return ids.length ? { id: Math.max(...ids), ...state.messages.get(Math.max(...ids)) } : null;
}

// Quick replies: only the newest bot message's buttons, and only while nothing came after it.
function renderQuickReplies() {
  for (const row of ui.transcript.querySelectorAll("li.quick-replies")) row.remove();
  const newest = newestMessage();
  if (!newest || newest.sender !== "bot" || !newest.quickReplies || state.pending.length > 0) return;
  const anchor = ui.transcript.querySelector(`li[data-id="${newest.id}"]`);
  if (!anchor) return;
  const buttons = newest.quickReplies.map((title) => {
    const button = el("button", { className: "quick-reply", text: title, attrs: { type: "button" } });
    button.addEventListener("click", () => sendMessage(title)); // exactly as if typed
    return button;
  });
  const group = el("div", { className: "quick-reply-group", attrs: { role: "group", "aria-label": "Svarforslag" } }, buttons);
  anchor.after(el("li", { className: "quick-replies" }, [group]));
}

// A line of the page's own, not a message: "En rådgiver har taget din samtale".
function addSystemLine(text) {
  const line = el("li", { className: "system-line" }, [
    el("p", {}, [text, el("span", { className: "system-time", text: ` · ${clockTime(new Date().toISOString())}` })]),
  ]);
  ui.transcript.insertBefore(line, ui.transcript.querySelector("li.pending"));
  scrollToEnd();
}

function addPending(text) {
  const node = bubble("young", text, "", true);
  ui.transcript.append(node);
  const entry = { text: normalise(text), node };
  state.pending.push(entry);
  renderQuickReplies();
  updateFeedback();
  scrollToEnd();
  return entry;
}

function dropPending(entry) {
  const index = state.pending.indexOf(entry);
  if (index !== -1) state.pending.splice(index, 1);
  entry.node.remove();
  renderQuickReplies();
}

function scrollToEnd() {
  ui.transcriptRegion.scrollTop = ui.transcriptRegion.scrollHeight;
}

// When the space for the transcript shrinks (the code box, "is writing", the buttons below it),
// a reader at the newest message stays there; one who scrolled back to read stays put.
let atEnd = true;
ui.transcriptRegion.addEventListener("scroll", () => {
  const region = ui.transcriptRegion;
  atEnd = region.scrollHeight - region.scrollTop - region.clientHeight < 40;
});
new ResizeObserver(() => {
  if (atEnd) scrollToEnd();
}).observe(ui.transcriptRegion);

// -- live signs: the counsellor writing, an answer while the tab is hidden ------------------------

function showCounsellorTyping(on) {
  clearTimeout(state.typingTimer);
  if (!on) {
    ui.liveSign.replaceChildren();
    return;
  }
  if (!ui.liveSign.firstChild) {
    ui.liveSign.append(
      el("p", { className: "typing" }, [
        el("span", { className: "dots", attrs: { "aria-hidden": "true" } }, [el("span"), el("span"), el("span")]),
        " Rådgiveren skriver …",
      ]),
    );
    scrollToEnd(); // the transcript just got shorter: keep its newest line in view
  }
  state.typingTimer = setTimeout(() => showCounsellorTyping(false), TYPING_SHOWN_MS);
}

function answerArrived() {
  if (!document.hidden) return;
  state.unseen += 1;
  document.title = `(${state.unseen}) Nyt svar`;
  softTone();
}

function softTone() {
  const context = state.audio;
  if (!context) return;
  if (context.state === "suspended") context.resume();
  const start = context.currentTime;
  const oscillator = context.createOscillator();
  const gain = context.createGain();
  oscillator.type = "sine";
  oscillator.frequency.value = 523;
  gain.gain.setValueAtTime(0.0001, start);
  gain.gain.exponentialRampToValueAtTime(0.08, start + 0.05);
  gain.gain.exponentialRampToValueAtTime(0.0001, start + 0.6);
  oscillator.connect(gain).connect(context.destination);
  oscillator.start(start);
  oscillator.stop(start + 0.65);
}

function toggleSound() {
  const on = !state.audio;
  if (on) {
    try {
      state.audio = new AudioContext(); // this click is the gesture browsers ask for
    } catch {
      state.audio = null;
    }
  } else {
    state.audio.close().catch(() => {});
    state.audio = null;
  }
  ui.sound.setAttribute("aria-pressed", String(Boolean(state.audio)));
}

function signalTyping() {
  // Only "someone is writing", never what: the text leaves the device when it is sent.
  if (!state.conversation || state.status !== "active" || !ui.message.value.trim()) return;
  const now = Date.now();
  if (now - state.typingSentAt < TYPING_EVERY_MS) return;
  state.typingSentAt = now;
  const { id, token } = state.conversation;
  callApi(`${API}/conversations/${encodeURIComponent(id)}/typing`, { method: "POST", token }).catch(() => {});
}

// Coming back (by code or by reload): open at the newest message and say if an answer waits.
function announceReturn() {
  scrollToEnd();
  const newest = newestMessage();
  if (newest && newest.sender === "counsellor") {
    // Set a moment after the region is shown, so screen readers announce it.
    setTimeout(() => {
      ui.notice.replaceChildren(el("p", { text: "Du har fået svar fra en rådgiver. Svaret står nederst i samtalen." }));
      scrollToEnd();
    }, 150);
  }
}

// -- feedback after the conversation ---------------------------------------------------------

function feedbackDone(id) {
  try {
    return (JSON.parse(sessionStorage.getItem(FEEDBACK_KEY)) || []).includes(id);
  } catch {
    return false;
  }
}

function rememberFeedbackDone(id) {
  try {
    const done = JSON.parse(sessionStorage.getItem(FEEDBACK_KEY)) || [];
    if (!done.includes(id)) sessionStorage.setItem(FEEDBACK_KEY, JSON.stringify([...done, id]));
  } catch {
    /* storage disabled: the service still refuses a second answer */
  }
}

// Which form, if any: the whole one when a conversation with a counsellor is closed, only "Fik
// du hjælp?" right after the bot said goodbye in a conversation with the bot only.
function feedbackKind() {
  const conversation = state.conversation;
  if (!conversation || state.feedbackGiven || feedbackDone(conversation.id)) return null;
  const senders = [...state.messages.values()].map((message) => message.sender);
  if (state.status === "closed" && senders.includes("counsellor")) return "full";
  if (state.status === "bot" && !senders.includes("counsellor") && state.pending.length === 0) {
    const newest = newestMessage();
    const text = newest && newest.sender === "bot" ? ui.transcript.querySelector(`li[data-id="${newest.id}"] .bubble-text`) : null;
    if (text && BOT_GOODBYES.some((start) => text.textContent.startsWith(start))) return "short";
  }
  return null;
}

function updateFeedback() {
  const kind = feedbackKind();
  const wasHidden = ui.fbPanel.hidden;
  ui.fbPanel.hidden = !kind;
  if (!kind) return;
  ui.fbPanel.dataset.kind = kind;
  ui.fbWriteAgain.hidden = ui.fbRating.hidden = kind !== "full";
  if (wasHidden) {
    ui.fbForm.reset();
    ui.fbError.textContent = "";
    ui.fbThanks.textContent = "";
    // One box at a time on a phone: the code stays one tap away under "Gem min kode".
    if (!ui.codePanel.hidden) showCode(false);
    scrollToEnd();
  }
}

function chosen(name) {
  const input = ui.fbForm.querySelector(`input[name="${name}"]:checked`);
  return input ? input.value : null;
}

function feedbackFinished(text) {
  rememberFeedbackDone(state.conversation.id);
  state.feedbackGiven = Boolean(text) || state.feedbackGiven;
  ui.fbPanel.hidden = true;
  ui.fbThanks.textContent = text || "";
  if (text) ui.fbThanks.focus();
  else ui.transcriptRegion.focus({ preventScroll: true });
}

async function sendFeedback(event) {
  event.preventDefault();
  if (!state.conversation) return;
  const full = ui.fbPanel.dataset.kind === "full";
  const rating = full ? chosen("fb-rating") : null;
  const body = {
    helped: chosen("fb-helped"),
    write_again: full ? chosen("fb-write-again") : null,
    rating: rating === null ? null : Number(rating),
  };
  if (body.helped === null && body.write_again === null && body.rating === null) {
    ui.fbError.textContent = "Vælg mindst ét svar – eller tryk „Spring over“.";
    ui.fbForm.querySelector("input").focus();
    return;
  }
  ui.fbError.textContent = "";
  ui.fbSend.disabled = true;
  const { id, token } = state.conversation;
  try {
    await callApi(`${API}/conversations/${encodeURIComponent(id)}/feedback`, { method: "POST", token, body });
    feedbackFinished(FEEDBACK_THANKS);
  } catch (error) {
    if (error instanceof ApiError && error.status === 409 && /allerede/.test(error.message)) {
      feedbackFinished(error.message); // "Du har allerede svaret. Tak!"
    } else {
      ui.fbError.textContent =
        error instanceof ApiError && error.status !== 0 ? error.message : "Svaret blev ikke sendt, fordi der ikke er forbindelse. Prøv igen om lidt.";
    }
  } finally {
    ui.fbSend.disabled = false;
  }
}

// -- status ----------------------------------------------------------------------------------

function statusLines(status, queue) {
  if (status === "bot") return ["Du taler med vores chatbot"];
  if (status === "active") return ["Du skriver med en rådgiver"];
  if (status === "closed") return ["Samtalen er afsluttet", "Skriver du igen, kommer du i kø til en rådgiver."];
  if (status === "queued") {
    if (!queue) return ["Du er i kø til en rådgiver"];
    // The same words as the bot: "Du er nummer N i køen".
    const place = `Du er nummer ${queue.position} i køen`;
    const wait = waitWords(queue.eta_minutes);
    // Which queue, and why, in the service's one sentence ("… sendt videre til Åby Kommune.").
    const which = queue.queue_text || null;
    if (queue.shift_open) return [wait ? `${place} · ventetid ${wait}` : place, null, which];
    if (!queue.next_shift_text) return [place, "Der er ingen rådgiver på vagt lige nu. Du kan blive her og skrive imens.", which];
    // e.g. "Du er nummer 2 i køen · ca. 9 timer – næste vagt i dag kl. 17"
    return [`${place}${wait ? ` · ${wait}` : ""} – næste vagt ${queue.next_shift_text}`, "Du kan blive her og skrive imens.", which];
  }
  return [""];
}

function setStatus(status, queue) {
  const changed = status !== state.status || JSON.stringify(queue) !== JSON.stringify(state.queue);
  // Handed off while the young person is here: the moment to save the code.
  if (status === "queued" && (state.status === "bot" || state.status === "closed")) showCode(true);
  if (status !== "active") showCounsellorTyping(false);
  state.status = status;
  state.queue = queue;
  ui.conversation.dataset.status = status;
  ui.askHuman.hidden = !(status === "bot" || status === "closed");
  updateFeedback();
  if (!changed) return;
  const [main, sub, which] = statusLines(status, queue);
  ui.statusText.replaceChildren(el("span", { className: "status-main", text: main }));
  if (which) ui.statusText.append(el("span", { className: "status-queue", text: which }));
  if (sub) ui.statusText.append(el("span", { className: "status-sub", text: sub }));
}

// -- talking to the service --------------------------------------------------------------------

async function sync() {
  const conversation = state.conversation;
  const view = await callApi(`${API}/conversations/${encodeURIComponent(conversation.id)}`, { token: conversation.token });
  if (state.conversation !== conversation) return;
  state.feedbackGiven = Boolean(view.feedback_given);
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
      if (name === "message") addMessage(data, { live: true });
      else if (name === "status" || name === "queue") setStatus(data.status, data.queue ?? null);
      else if (name === "counsellor_joined") {
        addSystemLine("En rådgiver har taget din samtale");
        setStatus("active", null);
      } else if (name === "counsellor_left") {
        // The counsellor stopped answering and the conversation is back in the queue at its old
        // place: the bot line says so in the transcript, the notice says it where it is seen.
        showCounsellorTyping(false);
        ui.notice.replaceChildren(el("p", { text: data.text }));
        if (state.status === "active") setStatus("queued", null);
        sync().catch(() => {});
      } else if (name === "typing" && data.sender === "counsellor" && state.status === "active") {
        showCounsellorTyping(true);
      } else if (name === "token_replaced") {
        // Opened with the code elsewhere: if this page's token is the old one, it no longer works.
        sync().catch((error) => {
          if (error instanceof ApiError && error.status === 404) {
            endWithMessage("Samtalen er blevet åbnet med koden et andet sted, så den er lukket her.");
          }
        });
      }
    },
  });
}

function showConversation() {
  ui.welcome.hidden = true;
  ui.conversation.hidden = false;
  ui.codeValue.value = codeOf(state.conversation);
  ui.codeValue.classList.toggle("long-code", !state.conversation.pickupCode);
  ui.rememberDevice.setAttribute("aria-pressed", String(Boolean(localStorage.getItem(DEVICE_KEY))));
}

function endWithMessage(message) {
  forgetConversation();
  if (state.stream) state.stream.stop();
  state.conversation = null;
  state.status = null;
  state.messageIds.clear();
  state.messages.clear();
  ui.transcript.replaceChildren();
  ui.notice.replaceChildren();
  showCounsellorTyping(false);
  showCode(false);
  state.feedbackGiven = false;
  ui.fbPanel.hidden = true;
  ui.fbThanks.textContent = "";
  ui.conversation.hidden = true;
  ui.welcome.hidden = false;
  ui.resumeError.textContent = "";
  ui.serviceStatus.textContent = message;
}

async function startConversation() {
  ui.start.disabled = true;
  ui.serviceStatus.textContent = "Starter chatten …";
  try {
    // On /ung/<slug> the conversation starts on that organisation's queue; on / as before.
    const created = await callApi(`${API}/conversations`, {
      method: "POST",
      body: ORG_SLUG ? { organisation: ORG_SLUG } : undefined,
    });
    state.conversation = { id: created.id, token: created.token, pickupCode: created.pickup_code };
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

// The page this tab is on: "/" or "/ung/<slug>".
const PAGE_PATH = ORG_SLUG ? `/ung/${ORG_SLUG}` : "/";

async function resume(conversation, { fromCode = false } = {}) {
  state.conversation = conversation;
  try {
    const view = await callApi(`${API}/conversations/${encodeURIComponent(conversation.id)}`, { token: conversation.token });
    if (view.organisation_page && view.organisation_page !== PAGE_PATH) {
      // A conversation started on another organisation's page goes on there, under its name.
      storeConversation(conversation);
      location.replace(view.organisation_page);
      return true;
    }
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
  announceReturn();
  return true;
}

// "Har du en kode?": the short pickup code (a fresh token comes back), or an old long code.
async function resumeWithCode(typed) {
  const pickupCode = pickupForm(typed);
  const longCode = pickupCode ? null : parseCode(typed);
  if (!pickupCode && !longCode) {
    ui.resumeError.textContent = "Koden ser ikke rigtig ud. Den har 10 tegn, fx K7QM-3XPD-9T.";
    return false;
  }
  ui.resumeError.textContent = "";
  if (longCode) return resume(longCode, { fromCode: true });
  ui.resumeSubmit.disabled = true;
  try {
    const picked = await callApi(`${API}/conversations/pickup`, { method: "POST", body: { code: pickupCode } });
    return await resume({ id: picked.id, token: picked.token, pickupCode }, { fromCode: true });
  } catch (error) {
    ui.resumeError.textContent =
      error instanceof ApiError && error.status !== 0 ? error.message : "Der er ingen forbindelse lige nu. Prøv igen om lidt.";
    return false;
  } finally {
    ui.resumeSubmit.disabled = false;
  }
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

// A random id per message (hex, 32 characters); crypto.getRandomValues works on plain http too.
function newClientMessageId() {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

// `chosen` is a quick reply's title: sent exactly as if it had been typed.
async function sendMessage(chosen) {
  const typed = chosen === undefined;
  const text = typed ? ui.message.value : chosen;
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
  ui.notice.replaceChildren();
  ui.fbThanks.textContent = "";
  state.sending = true;
  ui.send.disabled = true;
  if (typed) {
    ui.message.value = "";
    updateCharCount();
  }
  const pending = addPending(text);
  const botAnswers = state.status === "bot" || state.status === "queued" || state.status === "closed";
  ui.typing.hidden = !botAnswers;
  const { id, token } = state.conversation;
  // Sending the same text again after an error is a retry: the same id, so the service answers
  // with the first turn if that one did arrive, and stores nothing twice.
  const clientMessageId = state.unsent && state.unsent.text === text ? state.unsent.id : newClientMessageId();
  try {
    const turn = await callApi(`${API}/conversations/${encodeURIComponent(id)}/messages`, {
      method: "POST",
      token,
      body: { text },
      idempotencyKey: clientMessageId,
    });
    state.unsent = null;
    turn.messages.forEach(addMessage);
    setStatus(turn.status, turn.queue);
    // The stored copy of the young person's own message normally arrives on the stream; if the
    // stream is down, one read brings it.
    if (state.pending.includes(pending)) sync().catch(() => {});
  } catch (error) {
    dropPending(pending);
    state.unsent = { text, id: clientMessageId };
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
    const query = ORG_SLUG ? `?organisation=${encodeURIComponent(ORG_SLUG)}` : "";
    const status = await callApi(`${API}/service-status${query}`);
    let words;
    if (status.shift_open) {
      const until = status.current_shift_end_text ? ` til ${status.current_shift_end_text}` : "";
      words = `Der er rådgivere på vagt nu${until}.`;
    } else if (status.next_shift_text) {
      words = `Der er ingen rådgiver på vagt lige nu. Næste rådgiver er på vagt ${status.next_shift_text}. Du kan stadig skrive – chatbotten svarer med det samme, og en rådgiver svarer dig, når vagten starter.`;
    } else {
      words = "Der er ingen rådgiver på vagt lige nu. Chatbotten svarer med det samme.";
    }
    // On a municipality's page: where a young person who writes now would wait, and why.
    ui.serviceStatus.textContent = ORG_SLUG && status.queue_text ? `${status.queue_text} ${words}` : words;
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
  if (await resumeWithCode(ui.resumeCode.value)) {
    ui.resumeCode.value = "";
    ui.message.focus({ preventScroll: true });
  }
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
ui.message.addEventListener("input", () => {
  updateCharCount();
  signalTyping();
});
ui.askHuman.addEventListener("click", askForCounsellor);
ui.fbForm.addEventListener("submit", sendFeedback);
ui.fbForm.addEventListener("change", () => {
  ui.fbError.textContent = "";
});
ui.fbSkip.addEventListener("click", () => feedbackFinished(null));
function showCode(open) {
  if (open) ui.orgAbout.open = false; // one box at a time
  ui.codePanel.hidden = !open;
  ui.saveCode.setAttribute("aria-expanded", String(open));
  scrollToEnd();
}

ui.saveCode.addEventListener("click", () => {
  const open = ui.codePanel.hidden;
  showCode(open);
  if (open) ui.copyCode.focus();
});
ui.closeCode.addEventListener("click", () => {
  showCode(false);
  ui.saveCode.focus();
});
ui.sound.addEventListener("click", toggleSound);
ui.orgAbout.addEventListener("toggle", () => {
  if (!ui.orgAbout.open) return;
  // One box at a time on a phone, so the message box stays in view.
  if (!ui.codePanel.hidden) showCode(false);
  if (Date.now() - state.organisationAt > ORG_FRESH_MS) loadOrganisation();
});
document.addEventListener("visibilitychange", () => {
  if (document.hidden) return;
  state.unseen = 0;
  document.title = appTitle;
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

// The organisation's page in parallel; numbers first: they turn into tap-to-call links.
const organisationLoaded = loadOrganisation();
await loadEmergencyNumbers();
await organisationLoaded;
const stored = readStored();
if (stored) resume(stored);
else loadServiceStatus();
