// Alerts that reach the counsellor (issue #13, part 3): the tone, the critical bar that stays
// until acknowledged, system notifications while the tab is hidden, and the tab title.
// Nothing here ever shows, stores or sends what a young person wrote.
import { el } from "/assets/common.js";

const SOUND_KEY = "counsellor.sound"; // localStorage: "on" / "off", a preference and nothing else
const NOTIFY_LATER_KEY = "counsellor.notify-later"; // sessionStorage: the offer was answered in this tab
const SEEN_KEY = "counsellor.critical-seen"; // sessionStorage: critical conversations acknowledged here
const SOUND_OFF_TEXT = "Lyd slået fra – klik et sted på siden for at slå lyden til";
const GESTURES = ["pointerdown", "keydown", "touchend"];

function readStore(store, key) {
  try {
    return store.getItem(key);
  } catch {
    return null; // storage switched off: the defaults apply
  }
}

function writeStore(store, key, value) {
  try {
    store.setItem(key, value);
  } catch {
    /* storage switched off: the choice lasts until the page is closed */
  }
}

export function initAlerts({ appTitle, waitingWords, takeNext }) {
  const $ = (id) => document.getElementById(id);
  const ui = {
    sound: $("sound"),
    soundState: $("sound-state"),
    alert: $("alert"),
    claim: $("claim"),
    bar: $("critical-bar"),
    barTitle: $("critical-title"),
    barList: $("critical-list"),
    barTake: $("critical-take"),
    notify: $("notify"),
    notifyState: $("notify-state"),
    notifyYes: $("notify-yes"),
    notifyNo: $("notify-no"),
  };
  const state = {
    audio: null,
    armed: false, // true once a click or key press in this page let the browser play sound
    queue: [],
    seen: new Set(JSON.parse(readStore(sessionStorage, SEEN_KEY) || "[]")),
    offered: false, // the notification offer is looked at once the dashboard has its queue
  };

  // -- sound: re-armed by the first click or key press after every reload -------------------

  ui.sound.checked = readStore(localStorage, SOUND_KEY) !== "off";
  ui.sound.addEventListener("change", () => {
    writeStore(localStorage, SOUND_KEY, ui.sound.checked ? "on" : "off");
    renderSound();
  });

  function renderSound() {
    const muted = ui.sound.checked && !state.armed;
    const text = muted ? SOUND_OFF_TEXT : "";
    if (ui.soundState.textContent !== text) ui.soundState.textContent = text;
  }

  // Browsers only start audio from a user gesture; the login click or any click or key press.
  function arm() {
    if (state.armed || !window.AudioContext) return;
    try {
      if (!state.audio) state.audio = new AudioContext();
    } catch {
      return;
    }
    const context = state.audio;
    const settle = () => {
      state.armed = context.state === "running";
      if (state.armed) for (const name of GESTURES) document.removeEventListener(name, arm, true);
      renderSound();
    };
    if (context.state === "running") settle();
    else context.resume().then(settle, settle);
  }

  for (const name of GESTURES) document.addEventListener(name, arm, true);
  renderSound();

  function beep(times, frequency) {
    if (!ui.sound.checked || !state.armed || !state.audio) return;
    const context = state.audio;
    if (context.state === "suspended") context.resume().catch(() => {});
    for (let i = 0; i < times; i += 1) {
      const start = context.currentTime + i * 0.35;
      const oscillator = context.createOscillator();
      const gain = context.createGain();
      oscillator.frequency.value = frequency;
      gain.gain.setValueAtTime(0.0001, start);
      gain.gain.exponentialRampToValueAtTime(0.3, start + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + 0.25);
      oscillator.connect(gain).connect(context.destination);
      oscillator.start(start);
      oscillator.stop(start + 0.3);
    }
  }

  // -- the tab title -------------------------------------------------------------------------

  function updateTitle() {
    const waiting = state.queue.length;
    const critical = state.queue.some((item) => item.risk === "critical");
    if (waiting === 0) document.title = appTitle;
    else if (critical) document.title = `(${waiting}) KRITISK – ${appTitle}`;
    else document.title = `(${waiting}) ${appTitle}`;
  }

  // -- the critical bar: stays until "Set" or until the conversation leaves the queue ---------

  function unseenCritical() {
    return state.queue.filter((item) => item.risk === "critical" && !state.seen.has(item.id));
  }

  function renderCritical() {
    const open = unseenCritical();
    ui.bar.hidden = open.length === 0;
    const title =
      open.length === 0
        ? ""
        : open.length === 1
          ? "Ny KRITISK samtale i køen – tag den nu."
          : `${open.length} KRITISKE samtaler i køen – tag dem nu.`;
    if (ui.barTitle.textContent !== title) ui.barTitle.textContent = title; // a change is announced
    // "Tag næste" takes the top of the queue: offered here only when that is the first one listed.
    ui.barTake.hidden = !open.length || state.queue[0].id !== open[0].id;
    ui.barTake.textContent = open.length > 1 ? "Jeg tager den første" : "Jeg tager den";
    const focusedId = document.activeElement && document.activeElement.dataset.seen;
    ui.barList.replaceChildren(
      ...open.map((item) => {
        const what = `${item.topic_label || "Kritisk"} · ${waitingWords(item.waiting_minutes)}`;
        return el("li", { className: "critical-item", attrs: { "data-id": item.id } }, [
          el("span", { className: "critical-what", text: what }),
          el("button", {
            className: "critical-seen",
            text: "Set",
            attrs: { type: "button", "data-seen": item.id, "aria-label": `Set: ${what}` },
          }),
        ]);
      }),
    );
    if (focusedId) ui.barList.querySelector(`[data-seen="${CSS.escape(focusedId)}"]`)?.focus();
  }

  function acknowledge(id) {
    state.seen.add(id);
    writeStore(sessionStorage, SEEN_KEY, JSON.stringify([...state.seen]));
    renderCritical();
    // Keyboard users stay in the bar while it has more; then "Tag næste" is the next step.
    const next = ui.barList.querySelector(".critical-seen");
    (next || ui.claim).focus();
  }

  ui.barList.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-seen]");
    if (button) acknowledge(button.dataset.seen);
  });
  ui.barTake.addEventListener("click", () => takeNext());

  // -- system notifications: asked in the page first, never with message text -----------------

  const canNotify = "Notification" in window;

  function showNotifyOffer() {
    if (!canNotify || readStore(sessionStorage, NOTIFY_LATER_KEY)) {
      ui.notify.hidden = true;
      return;
    }
    // Already granted: nothing to ask. Already blocked: the counsellor decided, so no nagging;
    // the hint on how to allow them comes when they are blocked after asking here.
    ui.notify.hidden = Notification.permission !== "default";
  }

  function showDenied() {
    ui.notifyState.textContent =
      "Din browser har blokeret beskeder fra rådgiverpanelet. Vil du have dem, så tillad beskeder " +
      "for siden i browserens indstillinger (ikonet til venstre for adressen).";
    ui.notifyYes.hidden = true;
    ui.notifyNo.textContent = "OK";
  }

  async function askPermission() {
    ui.notifyYes.disabled = true;
    let permission = "default";
    try {
      permission = await Notification.requestPermission();
    } catch {
      permission = Notification.permission;
    }
    ui.notifyYes.disabled = false;
    if (permission === "granted") {
      ui.notifyState.textContent = "Beskeder er slået til. Du får besked om kritiske samtaler, når fanen ikke er åben.";
      ui.notifyYes.hidden = true;
      ui.notifyNo.textContent = "OK";
    } else if (permission === "denied") {
      showDenied();
    } else {
      ui.notifyState.textContent = "Browseren fik ikke et svar. Prøv igen, når du vil.";
    }
    (ui.notifyYes.hidden ? ui.notifyNo : ui.notifyYes).focus();
  }

  ui.notifyYes.addEventListener("click", askPermission);
  ui.notifyNo.addEventListener("click", () => {
    writeStore(sessionStorage, NOTIFY_LATER_KEY, "1");
    ui.notify.hidden = true;
    ui.claim.focus();
  });

  function notifyCritical() {
    if (!document.hidden || !canNotify || Notification.permission !== "granted") return;
    const waiting = state.queue.length;
    try {
      const note = new Notification("Kritisk samtale i køen", {
        body: waiting === 1 ? "1 ung venter i køen." : `${waiting} unge venter i køen.`,
        tag: "kritisk-samtale", // a newer one replaces the older, no pile of notifications
        renotify: true,
        icon: "/assets/icon.svg",
      });
      note.onclick = () => {
        window.focus();
        note.close();
      };
    } catch {
      /* e.g. Chrome on Android only shows notifications from a service worker: sound and bar remain */
    }
  }

  // -- what the dashboard calls ----------------------------------------------------------------

  function queueChanged(queue) {
    state.queue = queue;
    if (!state.offered) {
      state.offered = true;
      showNotifyOffer();
    }
    // "Set" holds while the conversation waits; if it comes back to the queue, it is new again.
    const waiting = new Set(queue.map((item) => item.id));
    const before = state.seen.size;
    for (const id of [...state.seen]) if (!waiting.has(id)) state.seen.delete(id);
    if (state.seen.size !== before) writeStore(sessionStorage, SEEN_KEY, JSON.stringify([...state.seen]));
    renderCritical();
    updateTitle();
  }

  function announceNew(items, riskWords) {
    if (items.length === 0) return;
    const critical = items.some((item) => item.risk === "critical");
    if (critical) {
      ui.alert.hidden = true; // the critical bar says it, and stays until "Set"
      beep(3, 880);
      notifyCritical();
      return;
    }
    const high = items.some((item) => item.risk === "high");
    ui.alert.hidden = false;
    ui.alert.className = `new-alert risk-${high ? "high" : "normal"}`;
    ui.alert.textContent =
      items.length === 1 ? `Ny samtale i køen (${riskWords[items[0].risk]}).` : `${items.length} nye samtaler i køen.`;
    beep(1, 660);
  }

  return { arm, beep, queueChanged, announceNew };
}
