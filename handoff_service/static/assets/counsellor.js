// The counsellor dashboard: login, the live queue, claiming and the conversation view.
import { ApiError, callApi, clockTime, el, followEvents } from "/assets/common.js";
import {
  noAccessText,
  onTokenChange,
  refreshLogin,
  rememberLogin,
  scheduleRefresh,
  sessionCall,
  START_PAGE_NAMES,
  startPage,
} from "/assets/staff.js";
import { createReferral, initShiftTools } from "/assets/shift_tools.js";
import { initAlerts } from "/assets/alerts.js";
import { initRegistration } from "/assets/registration.js";

const API = "/api/v1";
const TOKEN_KEY = "counsellor.token";
const OPEN_KEY = "counsellor.open"; // the conversation this tab is handling, to reopen after a reload
const APP_TITLE = "Rådgiverpanel";
const TYPING_EVERY_MS = 3000; // at most one "is writing" signal per 3 s, never any text
const TYPING_SHOWN_MS = 6000;
// "Jeg er her stadig": while this tab is visible and holds the open conversation, the service
// is told once a minute (and with typing, at most every 30 s), so the claim is not stale.
const KEEPALIVE_EVERY_MS = 60000;
const KEEPALIVE_WITH_TYPING_MS = 30000;
const SENDER_NAMES = { young: "Ung", bot: "Chatbot", counsellor: "Rådgiver" };
const RISK_WORDS = { normal: "Almindelig", high: "Høj", critical: "Kritisk" };
const REASON_WORDS = {
  topic: "Chatbotten genkendte emnet",
  violence: "Vold eller trusler",
  crisis: "Krise: selvskade, selvmordstanker eller akut fare",
  request_human: "Den unge bad om en rådgiver",
  young_request: "Den unge trykkede „Skriv med en rådgiver“",
  risk_lexicon: "Alvorlige ord i en besked",
  bot_unavailable: "Chatbotten kunne ikke svare",
  young_returned: "Den unge skrev igen efter en afsluttet samtale",
};
const OUTCOME_WORDS = {
  talked: "samtale gennemført",
  answered_letterbox: "svar efterladt til senere",
  referred: "henvist videre",
  emergency_services: "112 / alarmcentral involveret",
  no_response: "den unge svarede ikke",
  other: "andet",
};

const $ = (id) => document.getElementById(id);
const ui = Object.fromEntries(
  [
    "login", "login-note", "login-form", "username", "password", "login-error", "session-tools", "who",
    "sound", "logout", "dashboard", "alert", "queue-count", "claim", "queue-connection", "claim-error",
    "queue-empty", "queue", "no-conversation", "conversation-view", "conv-risk", "conv-topic", "conv-state",
    "conv-summary", "conv-carer", "conv-substance", "conv-reasons", "conv-queued", "given-count",
    "conv-given", "transcript", "transcript-region", "conv-connection", "reply-form", "reply-text", "reply-error",
    "send-reply", "leave-later", "young-typing", "release", "outcome", "close", "anonymity-state", "anonymity",
    "anonymity-confirm", "anonymity-yes", "anonymity-no", "action-error", "duty", "duty-title",
    "duty-summary", "duty-steps", "duty-sources", "stale-warning", "stale-warning-text", "still-here",
    "stale-open", "mine-count", "mine-error", "mine-empty", "mine", "claim-confirm", "claim-confirm-text",
    "claim-anyway", "claim-cancel", "no-access", "no-access-text", "no-access-link", "queue-notice", "conv-queue",
    "refer-open", "conv-refer",
  ].map((id) => [id.replace(/-([a-z])/g, (_, c) => c.toUpperCase()), $(id)]),
);

const state = {
  token: sessionStorage.getItem(TOKEN_KEY),
  queue: [],
  knownQueueIds: null, // null until the first load, so a full queue at login does not ring
  queueStream: null,
  queueRefresh: null,
  conversation: null, // the counsellor view of the open conversation
  messageIds: new Set(),
  flagged: new Set(), // bot lines this tab sent to the trainer ("Botten misforstod")
  conversationStream: null,
  me: null,
  changes: 0, // this tab's own changes to the open conversation: a re-read older than one is stale
  typingSentAt: 0,
  typingTimer: null,
  mine: [], // "Mine samtaler": this counsellor's open conversations and answers left for later
  mineRefresh: null,
  keepAliveSentAt: 0,
  staleWarning: null, // the conversation id the service warned about
  streamRefreshedAt: 0, // when a stream's 401 last refreshed the login (never in a loop)
};

// -- session ---------------------------------------------------------------------------------

// A 401 refreshes the login once and retries (assets/staff.js) before the page gives up.
function authed(path, options = {}) {
  return sessionCall(path, options).catch((error) => {
    if (error instanceof ApiError && error.status === 401) sessionExpired();
    else if (error instanceof ApiError && error.status === 403) noAccess();
    throw error;
  });
}

// 401: the login is missing, expired or wrong (log in again). 403: logged in, but the role has
// no access to the dashboard (a trainer): say so and point to the role's own page, never loop.
function authFailed(status) {
  if (status === 403) noAccess();
  else if (status === 401 && Date.now() - state.streamRefreshedAt > 10000) {
    // A stream reconnected with an access token that ran out: refresh once, follow again.
    state.streamRefreshedAt = Date.now();
    refreshLogin().then((token) => {
      if (!token) sessionExpired();
      else if (!ui.dashboard.hidden) {
        followQueue();
        if (state.conversation) followConversation(state.conversation.id);
      }
    });
  } else sessionExpired();
}

// Every login and refresh: the new access token for this page's own calls and streams.
onTokenChange((token) => {
  state.token = token;
});

function noAccess() {
  stopStreams();
  const role = state.me && state.me.role;
  ui.dashboard.hidden = true;
  ui.login.hidden = true;
  ui.noAccess.hidden = false;
  ui.sessionTools.hidden = false;
  ui.noAccessText.textContent = `${noAccessText(role, "rådgiverpanelet")} Spørg en admin, hvis du skal have en anden rolle.`;
  ui.noAccessLink.textContent = `Gå til ${START_PAGE_NAMES[role] || "din startside"}`;
  ui.noAccessLink.href = startPage(role);
  ui.sound.closest("label").hidden = true; // nothing to hear here
  ui.noAccessLink.focus();
}

function sessionExpired() {
  // Keep the dashboard as it is (a half-written reply survives); just ask for the password again.
  stopStreams();
  state.token = null;
  sessionStorage.removeItem(TOKEN_KEY);
  ui.dashboard.hidden = true;
  ui.noAccess.hidden = true;
  ui.sessionTools.hidden = true;
  ui.login.hidden = false;
  ui.loginNote.textContent = "Dit login er udløbet. Log ind igen for at fortsætte.";
  ui.password.value = "";
  ui.username.focus();
}

async function login(event) {
  event.preventDefault();
  ui.loginError.textContent = "";
  const username = ui.username.value.trim();
  const password = ui.password.value;
  if (!username || !password) {
    ui.loginError.textContent = "Skriv både brugernavn og adgangskode.";
    return;
  }
  unlockSound(); // the login click is the user gesture browsers require before playing sound
  try {
    const result = await callApi(`${API}/auth/login`, {
      method: "POST",
      body: { username, password },
      credentials: "same-origin", // the answer sets the HttpOnly refresh cookie
    });
    rememberLogin(result);
    ui.password.value = "";
    // Each role starts on its own page: trainers on theirs, admins on the admin pages (which
    // link back here: admins may counsel too).
    if (result.role !== "counsellor") {
      location.replace(startPage(result.role));
      return;
    }
    await enterDashboard();
  } catch (error) {
    ui.loginError.textContent = error instanceof ApiError ? error.message : "Login mislykkedes. Prøv igen.";
  }
}

async function enterDashboard() {
  const me = await authed(`${API}/auth/me`);
  state.me = me;
  ui.who.textContent = `Logget ind som ${me.username}`;
  if (me.role !== "counsellor" && me.role !== "admin") {
    noAccess();
    return;
  }
  ui.sound.closest("label").hidden = false;
  ui.login.hidden = true;
  ui.loginNote.textContent = "";
  ui.sessionTools.hidden = false;
  ui.dashboard.hidden = false;
  await Promise.all([refreshQueue(), refreshMine()]);
  followQueue();
  const open = sessionStorage.getItem(OPEN_KEY);
  if (open && (!state.conversation || state.conversation.id !== open)) await openConversation(open);
  else if (state.conversation) followConversation(state.conversation.id);
}

async function logout() {
  try {
    await authed(`${API}/auth/logout`, { method: "POST", credentials: "same-origin" });
  } catch {
    /* logged out locally either way */
  }
  stopStreams();
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(OPEN_KEY);
  location.replace("/counsellor");
}

function stopStreams() {
  if (state.queueStream) state.queueStream.stop();
  if (state.conversationStream) state.conversationStream.stop();
  state.queueStream = state.conversationStream = null;
}

// -- sound, the critical bar, system notifications and the title (assets/alerts.js) -----------

const alerts = initAlerts({ appTitle: APP_TITLE, waitingWords, takeNext: () => claimNext() });

function unlockSound() {
  alerts.arm();
}

function beep(times, frequency) {
  alerts.beep(times, frequency);
}

function updateTitle() {
  alerts.queueChanged(state.queue);
}

function announceNew(items) {
  alerts.announceNew(items, RISK_WORDS);
}

// -- queue -----------------------------------------------------------------------------------

function riskBadge(risk, label) {
  return el("span", { className: `risk risk-${risk}`, text: label || RISK_WORDS[risk] || risk });
}

function waitingWords(minutes) {
  if (minutes < 1) return "Venter: under 1 min";
  if (minutes < 60) return `Venter: ${minutes} min`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return `Venter: ${hours} t ${rest} min`;
}

// "Kø: Åby Kommune · startede hos Fælleschatten" (the page the young person wrote from, when it
// is not the queue's own).
function whereWords(item) {
  if (!item.queue) return "";
  const started = item.origin && item.origin.slug !== item.queue.slug ? ` · startede hos ${item.origin.name}` : "";
  return `Kø: ${item.queue.name}${started}`;
}

function renderQueue() {
  ui.queueCount.textContent = `(${state.queue.length})`;
  ui.queueEmpty.hidden = state.queue.length > 0;
  ui.claim.disabled = state.queue.length === 0;
  // The referral panel of a row survives the re-render (and keeps the focus inside it).
  const referring = queueReferral.openFor();
  const focusInPanel = queueReferral.node.contains(document.activeElement) ? document.activeElement : null;
  if (referring && !state.queue.some((item) => item.id === referring)) {
    queueReferral.close();
    ui.queueNotice.textContent = "Samtalen, du ville henvise, er ikke længere i køen.";
  }
  ui.queue.replaceChildren(
    ...state.queue.map((item) => {
      const lineId = `queue-line-${item.id}`;
      const refer = el("button", {
        className: "link-button refer-row",
        text: "Henvis til kommune",
        attrs: { type: "button", "aria-describedby": lineId, "aria-expanded": String(referring === item.id) },
      });
      refer.addEventListener("click", () => {
        if (queueReferral.openFor() === item.id) {
          queueReferral.close();
          renderQueue();
          return;
        }
        ui.queueNotice.textContent = "";
        queueReferral.open(item);
        renderQueue();
        queueReferral.node.querySelector("select").focus();
      });
      const where = whereWords(item);
      return el("li", { className: `queue-item risk-edge-${item.risk}`, attrs: { "data-id": item.id } }, [
        el("div", { className: "queue-line", attrs: { id: lineId } }, [
          el("span", { className: "position", text: `${item.position}.` }),
          riskBadge(item.risk, item.risk_label),
          el("span", { className: "topic", text: item.topic_label }),
          el("span", { className: "waiting", text: waitingWords(item.waiting_minutes) }),
        ]),
        where ? el("p", { className: "queue-where", text: where }) : null,
        el("p", { className: "queue-summary", text: item.summary }),
        item.first_message ? el("p", { className: "queue-first", text: `Første besked: „${item.first_message}“` }) : null,
        refer,
        referring === item.id ? queueReferral.node : null,
      ]);
    }),
  );
  if (focusInPanel && queueReferral.node.isConnected) focusInPanel.focus({ preventScroll: true });
  updateTitle();
}

async function refreshQueue() {
  try {
    const queue = await authed(`${API}/queue`);
    const fresh = state.knownQueueIds ? queue.filter((item) => !state.knownQueueIds.has(item.id)) : [];
    state.knownQueueIds = new Set([...(state.knownQueueIds || []), ...queue.map((item) => item.id)]);
    state.queue = queue;
    renderQueue();
    announceNew(fresh);
    ui.claimError.textContent = "";
  } catch (error) {
    if (error instanceof ApiError && error.status !== 401) ui.claimError.textContent = error.message;
  }
}

function scheduleQueueRefresh() {
  // Several changes in a burst (a claim moves everyone) need one read, not one per event.
  clearTimeout(state.queueRefresh);
  state.queueRefresh = setTimeout(refreshQueue, 150);
}

function followQueue() {
  if (state.queueStream) state.queueStream.stop();
  state.queueStream = followEvents(`${API}/queue/events`, state.token, {
    onOpen() {
      ui.queueConnection.textContent = "";
      scheduleQueueRefresh();
      scheduleMineRefresh();
    },
    onDrop() {
      ui.queueConnection.textContent = "Forbindelsen til køen er afbrudt. Prøver igen …";
    },
    onAuthFailed: authFailed,
    onEvent(name, data) {
      if (name === "queue") {
        scheduleQueueRefresh();
        scheduleMineRefresh();
        if (data && data.reason === "stale") announceStale(data);
      } else if (name === "transfer") {
        shiftTools.transferred(data);
      } else if (name === "stale_warning" && state.me && data.counsellor_id === state.me.id) {
        showStaleWarning(data);
      }
    },
  });
}

// Waiting minutes grow even when nothing happens.
setInterval(() => {
  if (state.token && !ui.dashboard.hidden) {
    refreshQueue();
    refreshMine();
  }
}, 60000);

// The counsellor's own conversations whose young person waits for an answer.
function waitingMine() {
  return state.mine.filter((item) => item.status === "active" && item.young_waiting);
}

async function claimNext({ confirmed = false } = {}) {
  ui.claimError.textContent = "";
  ui.alert.hidden = true;
  ui.claimConfirm.hidden = true;
  if (!confirmed) {
    await refreshMine();
    const waiting = waitingMine();
    if (waiting.length) {
      askBeforeClaiming(waiting);
      return;
    }
  }
  ui.claim.disabled = true;
  try {
    const view = await authed(`${API}/queue/claim`, { method: "POST" });
    if (view === null) {
      ui.claimError.textContent = "Køen er tom – der er ingen at tage.";
      return;
    }
    showConversation(view);
    ui.replyText.focus();
  } catch (error) {
    if (error instanceof ApiError && error.status !== 401) ui.claimError.textContent = error.message;
  } finally {
    ui.claim.disabled = state.queue.length === 0;
    scheduleQueueRefresh();
    scheduleMineRefresh();
  }
}

// "Tag næste" with a young person waiting for this counsellor: ask first (inline, no confirm()).
function askBeforeClaiming(waiting) {
  const open = state.conversation;
  const openWaits = open && waiting.some((item) => item.id === open.id);
  ui.claimConfirmText.textContent = openWaits
    ? "Den unge i din åbne samtale venter på dit svar. Vil du tage en ny samtale alligevel? Den åbne bliver liggende under „Mine samtaler“."
    : waiting.length === 1
      ? "En ung venter på dit svar under „Mine samtaler“. Vil du tage en ny samtale alligevel?"
      : `${waiting.length} unge venter på dit svar under „Mine samtaler“. Vil du tage en ny samtale alligevel?`;
  ui.claimCancel.textContent = openWaits ? "Bliv i samtalen" : "Fortryd";
  ui.claimConfirm.hidden = false;
  ui.claimAnyway.focus();
}

// -- Mine samtaler -----------------------------------------------------------------------------

function mineStateWords(item) {
  if (item.status === "closed") return "Svar efterladt til senere";
  if (item.young_waiting) return `Venter på dit svar siden kl. ${clockTime(item.waiting_since)}`;
  return "Du har svaret";
}

function renderMine() {
  const openId = state.conversation && state.conversation.id;
  ui.mineCount.textContent = `(${state.mine.length})`;
  ui.mineEmpty.hidden = state.mine.length > 0;
  ui.mine.replaceChildren(
    ...state.mine.map((item) => {
      const button = el(
        "button",
        {
          className: "mine-open",
          attrs: { type: "button", "data-id": item.id, ...(item.id === openId ? { "aria-current": "true" } : {}) },
        },
        [
          el("span", { className: "queue-line" }, [
            riskBadge(item.risk, item.risk_label),
            el("span", { className: "topic", text: item.topic_label }),
            el("span", {
              className: `mine-state${item.young_waiting ? " waits" : ""}`,
              text: mineStateWords(item),
            }),
          ]),
          el("span", { className: "queue-summary", text: item.summary }),
        ],
      );
      button.addEventListener("click", () => openConversation(item.id));
      return el("li", { className: `queue-item mine-item risk-edge-${item.risk}` }, [button]);
    }),
  );
}

async function refreshMine() {
  try {
    state.mine = await authed(`${API}/counsellor/mine`);
    ui.mineError.textContent = "";
    renderMine();
  } catch (error) {
    if (error instanceof ApiError && error.status !== 401) ui.mineError.textContent = error.message;
  }
}

function scheduleMineRefresh() {
  clearTimeout(state.mineRefresh);
  state.mineRefresh = setTimeout(refreshMine, 200);
}

// -- stale claims: the warning before, the notice after -----------------------------------------

function mineTopic(id) {
  const item = state.mine.find((row) => row.id === id);
  return item ? item.topic_label : null;
}

function showStaleWarning(data) {
  state.staleWarning = data.conversation_id;
  const minutes = Math.max(1, Math.round(data.seconds_left / 60));
  const topic = mineTopic(data.conversation_id);
  ui.staleWarningText.textContent =
    `${topic ? `Den unge i samtalen „${topic}“` : "En ung i en af dine samtaler"} venter på dit svar. ` +
    `Er du der ikke, går samtalen tilbage i køen om ca. ${minutes} min.`;
  ui.staleWarning.hidden = false;
  beep(2, 520);
}

function hideStaleWarning() {
  state.staleWarning = null;
  ui.staleWarning.hidden = true;
}

async function stillHere() {
  const id = state.staleWarning;
  hideStaleWarning();
  if (!id) return;
  try {
    await authed(`${API}/counsellor/conversations/${encodeURIComponent(id)}/keepalive`, { method: "POST" });
  } catch (error) {
    if (error instanceof ApiError && error.status !== 401) ui.claimError.textContent = error.message;
  }
  scheduleMineRefresh();
}

function announceStale(data) {
  // The released conversation comes back into the queue: this notice says so, not "Ny samtale".
  if (state.knownQueueIds) state.knownQueueIds.add(data.conversation_id);
  const wasMine = state.staleWarning === data.conversation_id || state.mine.some((item) => item.id === data.conversation_id);
  if (state.staleWarning === data.conversation_id) hideStaleWarning();
  ui.alert.hidden = false;
  ui.alert.className = `new-alert stale risk-${data.critical ? "critical" : data.risk === "high" ? "high" : "normal"}`;
  ui.alert.textContent = wasMine
    ? "Din samtale er sat tilbage i køen på sin gamle plads, fordi den unge ventede uden svar."
    : "En samtale er sat tilbage i køen på sin gamle plads, fordi den unge ventede uden svar. Tag den, hvis du kan.";
  if (data.critical) beep(3, 880);
  else beep(1, 660);
}

// "Jeg er her stadig", sent by the page while the counsellor has the conversation open and the
// tab is visible; `every: 0` sends at once (the tab just became visible).
function keepAlive({ every = KEEPALIVE_EVERY_MS } = {}) {
  const view = state.conversation;
  if (document.hidden || !state.token || !view || view.status !== "active") return;
  if (!state.me || view.counsellor_id !== state.me.id) return;
  if (Date.now() - state.keepAliveSentAt < every) return;
  state.keepAliveSentAt = Date.now();
  callApi(`${API}/counsellor/conversations/${encodeURIComponent(view.id)}/keepalive`, {
    method: "POST",
    token: state.token,
  }).catch(() => {});
  if (state.staleWarning === view.id) hideStaleWarning();
}

setInterval(() => keepAlive(), 15000);

// -- conversation ----------------------------------------------------------------------------

async function openConversation(id) {
  try {
    showConversation(await authed(`${API}/counsellor/conversations/${encodeURIComponent(id)}`));
  } catch (error) {
    sessionStorage.removeItem(OPEN_KEY);
    if (error instanceof ApiError && error.status !== 401) ui.actionError.textContent = error.message;
  }
}

function textList(values) {
  return values && values.length ? values.join(", ") : "–";
}

function showConversation(view) {
  const switching = !state.conversation || state.conversation.id !== view.id;
  state.conversation = view;
  sessionStorage.setItem(OPEN_KEY, view.id);
  ui.noConversation.hidden = true;
  ui.conversationView.hidden = false;
  ui.actionError.textContent = "";
  if (switching) {
    state.messageIds = new Set();
    ui.transcript.replaceChildren();
    ui.replyText.value = "";
    ui.outcome.value = "talked";
    ui.anonymityConfirm.hidden = true;
    convReferral.close();
    showYoungTyping(false);
    followConversation(view.id);
  }
  const triage = view.triage || {};
  const entities = triage.entities || {};
  ui.convRisk.replaceChildren(riskBadge(view.risk, view.risk_label));
  ui.convTopic.textContent = view.topic_label || "";
  ui.convSummary.textContent = view.summary;
  renderDutyToReport(view);
  ui.convCarer.textContent = textList(entities.carer);
  ui.convSubstance.textContent = textList(entities.substance);
  ui.convReasons.textContent = textList((triage.reasons || []).map((reason) => REASON_WORDS[reason] || reason));
  ui.convQueued.textContent = view.queued_at ? clockTime(view.queued_at) : "–";
  ui.convQueue.textContent = whereWords(view);
  // What the bot gave, by each item's Danish title from the content library.
  const given = view.content_given || (triage.content_given || []).map((id) => ({ id, title: id }));
  ui.givenCount.textContent = String(given.length);
  ui.convGiven.replaceChildren(...given.map((item) => el("li", { text: item.title, attrs: { "data-id": item.id } })));
  view.messages.forEach(addMessage);
  renderStatus();
  renderMine();
  shiftTools.conversationShown(view, switching);
}

// The guidance on skærpet underretningspligt, when the service sends it with the conversation.
function renderDutyToReport(view) {
  const duty = view.duty_to_report;
  ui.duty.hidden = !duty;
  if (!duty) return;
  // Until anonymity is broken this is reference material, not an alarm.
  ui.dutyTitle.textContent = view.anonymity_broken ? duty.title : "Vejledning: skærpet underretningspligt";
  ui.dutySummary.textContent = duty.summary;
  ui.dutySteps.replaceChildren(...(duty.steps || []).map((step) => el("li", { text: step })));
  ui.dutySources.replaceChildren(
    ...(duty.sources || []).map((source) =>
      el("li", { text: source.reference ? `${source.title} – ${source.reference}` : source.title }),
    ),
  );
}

function renderStatus() {
  const view = state.conversation;
  // Only the holder writes; a colleague's conversation is read only (handed over, or opened).
  const held = view.status === "active" && state.me && view.counsellor_id !== state.me.id;
  const open = view.status === "active" && !held;
  ui.convState.textContent = view.referredText || (held ? "En kollega har samtalen. Du kan læse med, men ikke skrive i den." : {
    active: "Du har samtalen. Den unge kan se dine svar med det samme.",
    queued: "Samtalen er sat tilbage i køen.",
    closed: `Samtalen er afsluttet${view.outcome ? ` (${OUTCOME_WORDS[view.outcome] || view.outcome})` : ""}.`,
    bot: "Den unge skriver med chatbotten.",
  }[view.status] || "");
  // "Henvis til kommune": a waiting conversation, or the counsellor's own active one.
  const mayRefer = !view.referredText && (view.status === "queued" || (view.status === "active" && !held && Boolean(state.me)));
  ui.referOpen.disabled = !mayRefer;
  if (!mayRefer && convReferral.openFor()) convReferral.close();
  ui.referOpen.setAttribute("aria-expanded", String(Boolean(convReferral.openFor())));
  for (const control of [ui.replyText, ui.sendReply, ui.leaveLater, ui.release, ui.close, ui.outcome]) {
    control.disabled = !open;
  }
  // "Botten misforstod": for the holder and for admins, like the route.
  ui.transcript.classList.toggle("can-flag", open || Boolean(state.me && state.me.role === "admin"));
  ui.anonymity.hidden = view.anonymity_broken;
  ui.duty.classList.toggle("urgent", Boolean(view.anonymity_broken));
  if (view.anonymity_broken) ui.duty.open = true;
  ui.anonymity.disabled = !open;
  ui.anonymityState.textContent = view.anonymity_broken
    ? "Anonymiteten er markeret som brudt. Vurdér, om der skal underrettes (skærpet underretningspligt)."
    : "";
  registration.conversationShown(view);
}

function addMessage(message) {
  if (state.messageIds.has(message.id)) return;
  state.messageIds.add(message.id);
  if (message.sender === "young") showYoungTyping(false);
  const buttons = message.quick_replies && message.quick_replies.length
    ? el("p", { className: "message-buttons", text: `Svarknapper: ${message.quick_replies.join(" · ")}` })
    : null;
  const node = el("li", { className: `message from-${message.sender}`, attrs: { "data-id": String(message.id) } }, [
    el("p", { className: "message-meta" }, [
      el("span", { className: "sender", text: SENDER_NAMES[message.sender] || message.sender }),
      el("span", { text: ` · ${clockTime(message.created_at)}` }),
    ]),
    el("p", { className: "message-text", text: message.text, attrs: { id: `message-${message.id}-text` } }),
    buttons,
    message.sender === "bot" ? flagLine(message.id) : null,
  ]);
  const later = [...ui.transcript.children].find((li) => Number(li.dataset.id) > message.id);
  ui.transcript.insertBefore(node, later || null);
  ui.transcriptRegion.scrollTop = ui.transcriptRegion.scrollHeight;
}

// "Botten misforstod" on bot lines (never the young person's or a counsellor's): the young
// person's message before it goes into the trainer's inbox, scrubbed (docs/trainer.md). Every
// bot line gets one; counsellor.css shows it only under the first line of each answer, and only
// to the holder of the conversation and to admins (the route refuses anyone else).
function flagLine(messageId) {
  const done = state.flagged.has(messageId);
  const button = el("button", {
    className: "flag-bot",
    text: "Botten misforstod",
    attrs: {
      type: "button",
      "data-flag": String(messageId),
      "aria-describedby": `message-${messageId}-text`,
      ...(done ? { disabled: "" } : {}),
    },
  });
  const note = el("span", {
    className: "flag-note",
    attrs: { tabindex: "-1" },
    text: done ? "Tak – beskeden er sendt til træneren" : "",
  });
  return el("p", { className: "flag-line" }, [button, note]);
}

async function flagMisunderstood(button) {
  const view = state.conversation;
  const messageId = Number(button.dataset.flag);
  const note = button.parentElement.querySelector(".flag-note");
  if (!view || button.disabled) return;
  button.disabled = true;
  note.classList.remove("error");
  note.textContent = "";
  try {
    await authed(
      `${API}/conversations/${encodeURIComponent(view.id)}/messages/${messageId}/misunderstood`,
      { method: "POST" },
    );
    state.flagged.add(messageId);
    note.textContent = "Tak – beskeden er sendt til træneren";
  } catch (error) {
    button.disabled = false;
    if (error instanceof ApiError && error.status === 401) return;
    note.classList.add("error");
    note.textContent = `Det blev ikke sendt: ${error instanceof ApiError ? error.message : "ukendt fejl. Prøv igen."}`;
  }
  note.focus();
}

function followConversation(id) {
  if (state.conversationStream) state.conversationStream.stop();
  state.conversationStream = followEvents(
    `${API}/counsellor/conversations/${encodeURIComponent(id)}/events`,
    state.token,
    {
      onOpen() {
        ui.convConnection.textContent = "";
        // Re-sync what was said while the stream was down; a reply or close sent meanwhile wins.
        const changes = state.changes;
        authed(`${API}/counsellor/conversations/${encodeURIComponent(id)}`)
          .then(
            (view) =>
              state.changes === changes && state.conversation && state.conversation.id === id && showConversation(view),
          )
          .catch(() => {});
      },
      onDrop() {
        ui.convConnection.textContent = "Forbindelsen til samtalen er afbrudt. Prøver igen …";
      },
      onAuthFailed: authFailed,
      onEvent(name, data) {
        if (!state.conversation || state.conversation.id !== id) return;
        if (name === "message") addMessage(data);
        else if (name === "typing" && data.sender === "young") showYoungTyping(true);
        else if (name === "counsellor_left") {
          // A stale claim went back to the queue (handoff_service/stale_claims.py).
          state.conversation.status = "queued";
          sessionStorage.removeItem(OPEN_KEY);
          renderStatus();
          ui.convState.textContent = "Samtalen er sat tilbage i køen på sin gamle plads, fordi den unge ventede uden svar.";
          scheduleMineRefresh();
        }
        else if (name === "status") {
          state.conversation.status = data.status;
          state.conversation.risk = data.risk;
          ui.convRisk.replaceChildren(riskBadge(data.risk));
          renderStatus();
        }
      },
    },
  );
}

// -- "is writing", both ways (never any text) -------------------------------------------------

function showYoungTyping(on) {
  clearTimeout(state.typingTimer);
  if (!on) {
    ui.youngTyping.replaceChildren();
    return;
  }
  if (!ui.youngTyping.firstChild) ui.youngTyping.append(el("p", { text: "Den unge skriver …" }));
  state.typingTimer = setTimeout(() => showYoungTyping(false), TYPING_SHOWN_MS);
}

function signalTyping() {
  const view = state.conversation;
  if (!view || view.status !== "active" || !state.me || view.counsellor_id !== state.me.id) return;
  if (!ui.replyText.value.trim() || Date.now() - state.typingSentAt < TYPING_EVERY_MS) return;
  state.typingSentAt = Date.now();
  callApi(`${API}/conversations/${encodeURIComponent(view.id)}/typing`, { method: "POST", token: state.token }).catch(() => {});
  keepAlive({ every: KEEPALIVE_WITH_TYPING_MS });
}

async function conversationAction(path, body, { closes = false } = {}) {
  const view = state.conversation;
  state.changes += 1;
  ui.actionError.textContent = "";
  try {
    const result = await authed(`${API}/conversations/${encodeURIComponent(view.id)}/${path}`, { method: "POST", body });
    if (result && result.id === view.id) showConversation(result);
    scheduleMineRefresh();
    if (closes) {
      sessionStorage.removeItem(OPEN_KEY);
      if (body && body.outcome) state.conversation.outcome = body.outcome;
      renderStatus();
    }
    return result;
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 401) {
      ui.actionError.textContent = error instanceof ApiError ? error.message : "Handlingen mislykkedes.";
    }
    return null;
  }
}

async function sendReply(leaveForLater) {
  const text = ui.replyText.value;
  ui.replyError.textContent = "";
  if (!text.trim()) {
    ui.replyError.textContent = "Skriv et svar først.";
    ui.replyText.focus();
    return;
  }
  const view = state.conversation;
  state.changes += 1;
  ui.sendReply.disabled = ui.leaveLater.disabled = true;
  try {
    const message = await authed(`${API}/conversations/${encodeURIComponent(view.id)}/reply`, {
      method: "POST",
      body: { text, leave_for_later: leaveForLater },
    });
    addMessage(message);
    ui.replyText.value = "";
    scheduleMineRefresh();
    if (leaveForLater) {
      state.conversation.status = "closed";
      state.conversation.outcome = "answered_letterbox";
      sessionStorage.removeItem(OPEN_KEY);
    }
  } catch (error) {
    // The draft stays in the box.
    if (!(error instanceof ApiError) || error.status !== 401) {
      ui.replyError.textContent = `Svaret blev ikke sendt: ${error instanceof ApiError ? error.message : "ukendt fejl"}`;
    }
  } finally {
    renderStatus();
    if (state.conversation.status === "active") ui.replyText.focus();
  }
}

// -- the shift's tools: canned replies, notes, transfer (assets/shift_tools.js) --------------

const shiftTools = initShiftTools({
  authed,
  replyText: ui.replyText,
  me: () => state.me,
  openConversation,
  showConversation,
  onMineChanged: () => scheduleMineRefresh(),
  alert(text) {
    ui.alert.textContent = text;
    ui.alert.hidden = false;
  },
});

// -- "Henvis til kommune" (assets/shift_tools.js): from a queue row, or in the open conversation --

// The referred conversation has left this counsellor's hands: it waits in the other queue now.
function referred(result, text) {
  scheduleQueueRefresh();
  scheduleMineRefresh();
  const view = state.conversation;
  if (view && view.id === result.conversation_id) {
    // Not ours any more (and maybe not a queue we see): stop following it, keep what was said.
    if (state.conversationStream) state.conversationStream.stop();
    state.conversationStream = null;
    sessionStorage.removeItem(OPEN_KEY);
    view.status = "queued";
    view.counsellor_id = null;
    view.queue = result.organisation;
    view.referredText = text;
    ui.convQueue.textContent = whereWords(view);
    renderStatus();
    renderMine();
  }
}

const queueReferral = createReferral({
  authed,
  idPrefix: "queue-refer",
  onReferred(result, text) {
    ui.queueNotice.textContent = text;
    referred(result, text);
    renderQueue();
    ui.queueNotice.focus();
  },
  onCancel(conversationId) {
    renderQueue();
    const row = [...ui.queue.children].find((li) => li.dataset.id === conversationId);
    if (row) row.querySelector(".refer-row").focus();
  },
});

const convReferral = createReferral({
  authed,
  idPrefix: "conv-refer",
  onReferred(result, text) {
    referred(result, text);
    ui.convState.focus();
  },
  onCancel() {
    ui.referOpen.setAttribute("aria-expanded", "false");
    ui.referOpen.focus();
  },
});
ui.convRefer.append(convReferral.node);
ui.referOpen.addEventListener("click", () => {
  const view = state.conversation;
  if (!view) return;
  if (convReferral.openFor() === view.id) convReferral.close();
  else convReferral.open(view);
  ui.referOpen.setAttribute("aria-expanded", String(Boolean(convReferral.openFor())));
});

// -- the anonymous registration after closing (assets/registration.js) -------------------------

const registration = initRegistration({ authed, me: () => state.me });

// -- wiring ----------------------------------------------------------------------------------

ui.loginForm.addEventListener("submit", login);
ui.logout.addEventListener("click", logout);
ui.claim.addEventListener("click", () => claimNext());
ui.claimAnyway.addEventListener("click", () => claimNext({ confirmed: true }));
ui.claimCancel.addEventListener("click", () => {
  ui.claimConfirm.hidden = true;
  if (state.conversation && state.conversation.status === "active") ui.replyText.focus();
  else ui.claim.focus();
});
ui.stillHere.addEventListener("click", stillHere);
ui.transcript.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-flag]");
  if (button) flagMisunderstood(button);
});
ui.staleOpen.addEventListener("click", () => {
  const id = state.staleWarning;
  hideStaleWarning();
  if (id) openConversation(id);
});
ui.replyForm.addEventListener("submit", (event) => {
  event.preventDefault();
  sendReply(false);
});
ui.replyText.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
    event.preventDefault();
    sendReply(false);
  }
});
ui.leaveLater.addEventListener("click", () => sendReply(true));
ui.replyText.addEventListener("input", signalTyping);
ui.release.addEventListener("click", async () => {
  if (await conversationAction("release", shiftTools.releaseBody())) {
    sessionStorage.removeItem(OPEN_KEY);
    scheduleQueueRefresh();
  }
});
ui.close.addEventListener("click", async () => {
  if (await conversationAction("close", { outcome: ui.outcome.value }, { closes: true })) {
    registration.conversationShown(state.conversation, { justClosed: true });
  }
});
ui.anonymity.addEventListener("click", () => {
  ui.anonymityConfirm.hidden = false;
  ui.anonymityYes.focus();
});
ui.anonymityNo.addEventListener("click", () => {
  ui.anonymityConfirm.hidden = true;
  ui.anonymity.focus();
});
ui.anonymityYes.addEventListener("click", async () => {
  ui.anonymityConfirm.hidden = true;
  await conversationAction("anonymity-broken");
  ui.anonymityState.focus?.();
});
window.addEventListener("online", () => {
  for (const stream of [state.queueStream, state.conversationStream]) if (stream) stream.reconnectNow();
});
document.addEventListener("visibilitychange", () => {
  if (!document.hidden) {
    ui.alert.hidden = true;
    keepAlive({ every: 0 });
  }
});

if (state.token) {
  scheduleRefresh();
  enterDashboard().catch(() => {
    if (state.token) sessionExpired();
  });
} else {
  ui.username.focus();
}
