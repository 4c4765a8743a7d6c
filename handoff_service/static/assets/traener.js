// The trainer's inbox (issue #14, docs/trainer.md): young people's messages the bot was unsure
// about, scrubbed, lowest confidence first. One click or one key per label: Korrekt, one of the
// bot's alternatives, any intent, Kassér; a selection for batch labels; Fortryd for the last
// actions. Trainers and admins; everyone else gets the gate (assets/staff.js).
import { ApiError, el } from "/assets/common.js";
import { API, logOut, StaffSession } from "/assets/staff.js";
import { startIntents } from "/assets/traener-intents.js";
import { startModels } from "/assets/traener-models.js";

const $ = (id) => document.getElementById(id);

// Danish names for every intent of triage_core/taxonomy.py, in its order. The topics and the
// service questions take the wording of handoff_service/texts_da.yml (topic_labels); that file
// has no label for turn-taking intents and no endpoint gives labels for all intents, so the
// rest are named here. The intent's own name is always shown beside the label.
const INTENT_LABELS = {
  greet: "Hilsen",
  goodbye: "Farvel",
  thank: "Siger tak",
  affirm: "Ja / enig",
  deny: "Nej / uenig",
  bot_challenge: "Spørger, om det er en bot",
  request_human: "Vil tale med en rådgiver",
  ask_opening_hours: "Spørger om åbningstider",
  ask_wait_time: "Spørger om ventetid",
  ask_anonymity: "Spørger om anonymitet",
  parent_alcohol: "Forælder drikker",
  parent_drugs: "Forælder tager stoffer",
  own_substance_use: "Eget forbrug",
  feeling_guilt: "Skyld og skam",
  feeling_sad: "Ked af det / ensom",
  feeling_anxious: "Angst og bekymring",
  conflict_home: "Konflikter derhjemme",
  violence: "Vold eller trusler",
  self_harm: "Selvskade",
  suicidal: "Selvmordstanker",
  immediate_danger: "Akut fare",
  out_of_scope: "Andet",
};
const INTENTS = Object.keys(INTENT_LABELS);
const REASON_LABELS = {
  below_threshold: "Under tærsklen",
  ambiguous: "Tvivl mellem to emner",
  safety_net: "Sikkerhedsnettet greb ind",
  bare_fallback: "Botten forstod ikke",
  counsellor_flag: "Rådgiver: botten misforstod",
};
const STATUS_WORDS = { open: "åbne", accepted: "accepterede", discarded: "kasserede", all: "" };
const PAGE_SIZE = 100;
const DAY = new Intl.DateTimeFormat("da-DK", { weekday: "long", day: "numeric", month: "long", year: "numeric" });

const state = {
  items: [],
  current: 0, // index of the item the keys act on
  selected: new Set(),
  undo: [], // [{ids, words}], newest last
  busy: false,
  query: null, // the filters the list was loaded with
  more: false,
};

const session = new StaffSession({
  roles: ["trainer", "admin"],
  pageName: "trænersiden",
});

// -- words ------------------------------------------------------------------------------------

function intentWords(intent) {
  if (!intent) return "intet gæt";
  const label = INTENT_LABELS[intent];
  return label ? `${label} (${intent})` : intent;
}

function percent(confidence) {
  return confidence === null || confidence === undefined ? "ukendt sikkerhed" : `${Math.round(confidence * 100)} %`;
}

function dayWords(day) {
  const moment = new Date(`${day}T12:00:00`);
  return Number.isNaN(moment.getTime()) ? day : DAY.format(moment);
}

function seenWords(count) {
  return count === 1 ? "Set 1 gang" : `Set ${count} gange`;
}

function say(text) {
  // Cleared first, so the same sentence twice is read twice.
  $("message").textContent = "";
  requestAnimationFrame(() => {
    $("message").textContent = text;
  });
}

function intentOptions(select, firstWords) {
  select.replaceChildren(
    el("option", { text: firstWords, attrs: { value: "" } }),
    ...INTENTS.map((intent) => el("option", { text: intentWords(intent), attrs: { value: intent } })),
  );
}

// -- the list ---------------------------------------------------------------------------------

function readFilters() {
  const min = $("f-min").value.trim();
  const max = $("f-max").value.trim();
  const from = $("f-from").value;
  const to = $("f-to").value;
  let ok = true;
  $("f-confidence-error").textContent = "";
  $("f-date-error").textContent = "";
  for (const input of [$("f-min"), $("f-max"), $("f-from"), $("f-to")]) input.removeAttribute("aria-invalid");
  const number = (value) => (value === "" ? null : Number(value));
  const low = number(min);
  const high = number(max);
  const bad = [low, high].some((value) => value !== null && (!Number.isFinite(value) || value < 0 || value > 100));
  if (bad || (low !== null && high !== null && low > high)) {
    $("f-confidence-error").textContent = bad
      ? "Sikkerheden skal være et tal fra 0 til 100."
      : "„Sikkerhed fra“ skal være mindre end eller lig med „Sikkerhed til“.";
    $("f-min").setAttribute("aria-invalid", "true");
    $("f-max").setAttribute("aria-invalid", "true");
    ok = false;
  }
  if (from && to && from > to) {
    $("f-date-error").textContent = "„Fra dag“ skal ligge før eller på „Til dag“.";
    $("f-from").setAttribute("aria-invalid", "true");
    $("f-to").setAttribute("aria-invalid", "true");
    ok = false;
  }
  if (!ok) return null;
  const query = new URLSearchParams({ status: $("f-status").value, sort: $("f-sort").value });
  if ($("f-reason").value) query.set("reason", $("f-reason").value);
  if ($("f-intent").value) query.set("intent", $("f-intent").value);
  if (low !== null) query.set("min_confidence", String(low / 100));
  if (high !== null) query.set("max_confidence", String(high / 100));
  if (from) query.set("from", from);
  if (to) query.set("to", to);
  return query;
}

async function load({ append = false, focusId = null } = {}) {
  const query = append ? state.query : readFilters();
  if (!query) return false;
  state.query = query;
  const page = new URLSearchParams(query);
  page.set("limit", String(PAGE_SIZE));
  page.set("offset", String(append ? state.items.length : 0));
  $("list-error").textContent = "";
  let items;
  try {
    items = await session.call(`${API}/trainer/inbox?${page}`);
  } catch (error) {
    if (!(error instanceof ApiError) || (error.status !== 401 && error.status !== 403)) {
      $("list-error").textContent = `Indbakken kunne ikke hentes: ${error instanceof ApiError ? error.message : "ukendt fejl"}`;
    }
    return false;
  }
  state.more = items.length === PAGE_SIZE;
  if (append) {
    const known = new Set(state.items.map((item) => item.id));
    state.items.push(...items.filter((item) => !known.has(item.id)));
  } else {
    state.items = items;
    state.current = 0;
    state.selected.clear();
  }
  if (focusId !== null) {
    const index = state.items.findIndex((item) => item.id === focusId);
    if (index >= 0) state.current = index;
  }
  render();
  return true;
}

function render() {
  const list = $("items");
  const status = state.query ? state.query.get("status") : "open";
  const count = state.items.length;
  state.current = Math.min(state.current, Math.max(0, count - 1));
  const known = new Set(state.items.map((item) => item.id));
  for (const id of [...state.selected]) if (!known.has(id)) state.selected.delete(id);
  $("list-count").textContent = `(${count}${state.more ? "+" : ""})`;
  $("empty").hidden = count > 0;
  $("empty").textContent = emptyWords(status);
  $("batch").hidden = count === 0;
  $("more").hidden = !state.more;
  list.replaceChildren(...state.items.map((item, index) => renderItem(item, index)));
  renderSelection();
}

function emptyWords(status) {
  const filtered = state.query && [...state.query.keys()].some((key) => !["status", "sort"].includes(key));
  if (filtered) return "Ingen beskeder passer til filtrene. Prøv at nulstille dem.";
  if (status === "open") return "Indbakken er tom – der er ingen beskeder, der venter på et emne. Godt arbejde!";
  if (status === "all") return "Indbakken er tom. Her kommer beskeder, som chatbotten var i tvivl om.";
  return `Der er ingen ${STATUS_WORDS[status]} beskeder.`;
}

function choicesOf(item) {
  return (item.alternatives || []).slice(0, 9);
}

function renderItem(item, index) {
  const id = item.id;
  const textId = `item-${id}-text`;
  const metaId = `item-${id}-meta`;
  const choices = choicesOf(item);
  const checkbox = el("input", {
    attrs: { type: "checkbox", id: `select-${id}`, "data-select": String(id) },
  });
  checkbox.checked = state.selected.has(id);
  const stateWords =
    item.status === "accepted"
      ? `Accepteret som ${intentWords(item.label)}${item.exported_at ? ", skrevet ind i træningsdata" : ""}`
      : item.status === "discarded"
        ? "Kasseret"
        : null;
  const otherSelect = el("select", { className: "intent-select", attrs: { id: `other-${id}`, "data-other": String(id) } });
  intentOptions(otherSelect, "Vælg emne …");
  const node = el(
    "li",
    {
      className: `item status-${item.status}${index === state.current ? " is-current" : ""}`,
      attrs: {
        "data-id": String(id),
        tabindex: index === state.current ? "0" : "-1",
        "aria-labelledby": textId,
        "aria-describedby": metaId,
      },
    },
    [
      el("div", { className: "item-head" }, [
        el("label", { className: "item-select", attrs: { for: `select-${id}` } }, [
          checkbox,
          el("span", { className: "visually-hidden", text: `Vælg besked ${index + 1}` }),
        ]),
        el("p", { className: "item-text", attrs: { id: textId }, text: item.text }),
      ]),
      el("div", { className: "item-info", attrs: { id: metaId } }, [
        el("p", { className: "item-meta", text: `${seenWords(item.count)} · ${dayWords(item.day)}` }),
        el("p", { className: "item-guess" }, [
          el("span", { text: "Bottens gæt: " }),
          el("strong", { text: INTENT_LABELS[item.predicted_intent] || item.predicted_intent || "intet gæt" }),
          item.predicted_intent && INTENT_LABELS[item.predicted_intent]
            ? el("code", { className: "intent-name", text: item.predicted_intent })
            : null,
          el("span", {
            className: "confidence",
            text: item.confidence === null ? " · sikkerhed ukendt" : ` · ${percent(item.confidence)} sikker`,
          }),
        ]),
        el(
          "ul",
          { className: "reasons", attrs: { "aria-label": "Hvorfor i indbakken" } },
          (item.reasons || []).map((reason) =>
            el("li", { className: `reason reason-${reason}`, text: REASON_LABELS[reason] || reason }),
          ),
        ),
        item.lexicon_concept
          ? el("p", { className: "item-lexicon" }, [
              el("span", { text: "Risikoordlisten: " }),
              el("code", { text: item.lexicon_concept }),
            ])
          : null,
        stateWords ? el("p", { className: `item-state state-${item.status}`, text: stateWords }) : null,
      ]),
      el("div", { className: "item-actions" }, [
        el("button", {
          className: "primary",
          text: "Korrekt",
          attrs: {
            type: "button",
            "data-action": "correct",
            "aria-label": `Korrekt: ${intentWords(item.predicted_intent)}`,
            ...(item.predicted_intent ? {} : { disabled: "" }),
          },
        }),
        choices.length
          ? el(
              "div",
              { className: "choices", attrs: { role: "group", "aria-label": "Vælg emne" } },
              choices.map((choice, position) => {
                // The accessible name starts with the visible words (voice control), then the name.
                const words = `${position + 1} ${INTENT_LABELS[choice.intent] || choice.intent} · ${percent(choice.confidence)}`;
                return el("button", {
                  className: "secondary choice-button",
                  text: words,
                  attrs: {
                    type: "button",
                    "data-action": "intent",
                    "data-intent": choice.intent,
                    "aria-keyshortcuts": String(position + 1),
                    "aria-label": `${words} (${choice.intent})`,
                  },
                });
              }),
            )
          : null,
        el("div", { className: "other" }, [
          el("label", { className: "visually-hidden", text: "Andet emne", attrs: { for: `other-${id}` } }),
          otherSelect,
          el("button", {
            className: "secondary",
            text: "Sæt emne",
            attrs: { type: "button", "data-action": "other" },
          }),
        ]),
        el("button", {
          className: "secondary discard",
          text: "Kassér",
          attrs: { type: "button", "data-action": "discard", "aria-keyshortcuts": "x" },
        }),
        item.status !== "open"
          ? el("button", {
              className: "link-button",
              text: "Gør åben igen",
              attrs: { type: "button", "data-action": "reopen" },
            })
          : null,
      ]),
    ],
  );
  return node;
}

function renderSelection() {
  const count = state.selected.size;
  $("batch-count").textContent = count === 1 ? "1 valgt" : `${count} valgt`;
  for (const id of ["batch-correct", "batch-discard", "batch-intent", "batch-label"]) $(id).disabled = count === 0;
  const all = $("select-all");
  all.checked = count > 0 && count === state.items.length;
  all.indeterminate = count > 0 && count < state.items.length;
}

function itemNode(index) {
  return $("items").children[index] || null;
}

function focusItem(index) {
  const count = state.items.length;
  if (!count) {
    $("empty").setAttribute("tabindex", "-1");
    $("empty").focus();
    return;
  }
  state.current = Math.max(0, Math.min(count - 1, index));
  [...$("items").children].forEach((node, position) => {
    node.tabIndex = position === state.current ? 0 : -1;
    node.classList.toggle("is-current", position === state.current);
  });
  const node = itemNode(state.current);
  node.focus();
  node.scrollIntoView({ block: "nearest" });
}

// -- labelling ----------------------------------------------------------------------------------

function labelWords(body, ids) {
  const what = ids.length === 1 ? "Beskeden" : `${ids.length} beskeder`;
  if (body.discard) return `${what} er kasseret.`;
  if (body.correct) {
    const item = ids.length === 1 && state.items.find((entry) => entry.id === ids[0]);
    return item ? `Beskeden er accepteret som ${intentWords(item.predicted_intent)}.` : `${what} er accepteret med bottens gæt.`;
  }
  return `${what} har nu emnet ${intentWords(body.intent)}.`;
}

// Runs a label call, then tells what happened, keeps it for Fortryd and moves focus on.
async function act(ids, body) {
  if (state.busy || !ids.length) return;
  state.busy = true;
  $("list-error").textContent = "";
  const index = state.items.findIndex((item) => item.id === ids[0]);
  const words = labelWords(body, ids);
  try {
    if (ids.length === 1) {
      const updated = await session.call(`${API}/trainer/inbox/${ids[0]}/label`, { method: "POST", body });
      replaceItems([updated]);
    } else {
      await session.call(`${API}/trainer/inbox/batch`, { method: "POST", body: { ids, ...body } });
      const status = body.discard ? "discarded" : "accepted";
      replaceItems(
        state.items
          .filter((item) => ids.includes(item.id))
          .map((item) => ({ ...item, status, label: body.discard ? null : body.intent || item.predicted_intent })),
      );
    }
    state.undo.push({ ids, words });
    for (const id of ids) state.selected.delete(id);
    render();
    say(`${words} Tryk u eller „Fortryd“ for at fortryde.`);
    $("undo").hidden = false;
    focusItem(index >= 0 ? index : state.current);
  } catch (error) {
    if (!(error instanceof ApiError) || (error.status !== 401 && error.status !== 403)) {
      const why = error instanceof ApiError ? error.message : "ukendt fejl";
      $("list-error").textContent = `Det blev ikke gemt: ${why}`;
      say(`Det blev ikke gemt: ${why}`);
    }
  } finally {
    state.busy = false;
  }
}

// Updated items stay in the list if they still fit the status filter, else they leave it.
function replaceItems(updated) {
  const status = state.query ? state.query.get("status") : "open";
  const byId = new Map(updated.map((item) => [item.id, item]));
  state.items = state.items
    .map((item) => byId.get(item.id) || item)
    .filter((item) => !byId.has(item.id) || status === "all" || item.status === status);
}

async function undoLast() {
  if (state.busy) return;
  const last = state.undo.pop();
  if (!last) {
    say("Der er ikke noget at fortryde.");
    return;
  }
  state.busy = true;
  $("list-error").textContent = "";
  try {
    for (const id of last.ids) await session.call(`${API}/trainer/inbox/${id}/undo`, { method: "POST" });
  } catch (error) {
    state.busy = false;
    if (!(error instanceof ApiError) || (error.status !== 401 && error.status !== 403)) {
      const words = error instanceof ApiError ? error.message : "ukendt fejl";
      $("list-error").textContent = `Det kunne ikke fortrydes: ${words}`;
      say(`Det kunne ikke fortrydes: ${words}`);
    }
    return;
  }
  state.busy = false;
  $("undo").hidden = state.undo.length === 0;
  const what = last.ids.length === 1 ? "Beskeden er åben igen" : `${last.ids.length} beskeder er åbne igen`;
  await load({ focusId: last.ids[0] });
  say(`Fortrudt: ${what}.`);
  const index = state.items.findIndex((item) => item.id === last.ids[0]);
  if (index >= 0) focusItem(index);
  else {
    // Open again, but outside the filters shown: keep the keyboard in the list's section.
    $("list-heading").setAttribute("tabindex", "-1");
    $("list-heading").focus();
  }
}

function itemOf(node) {
  const li = node && node.closest ? node.closest("#items > li") : null;
  if (!li) return null;
  return state.items.find((item) => item.id === Number(li.dataset.id)) || null;
}

function currentItem() {
  return itemOf(document.activeElement) || state.items[state.current] || null;
}

function choose(item, body) {
  if (!item) return;
  if (body.correct && !item.predicted_intent) {
    say("Botten gættede ikke på et emne her. Vælg emnet i stedet.");
    return;
  }
  act([item.id], body);
}

// -- wiring -----------------------------------------------------------------------------------

$("items").addEventListener("click", (event) => {
  const button = event.target.closest("button[data-action]");
  if (!button) return;
  const item = itemOf(button);
  if (!item) return;
  const action = button.dataset.action;
  if (action === "correct") choose(item, { correct: true });
  else if (action === "discard") choose(item, { discard: true });
  else if (action === "intent") choose(item, { intent: button.dataset.intent });
  else if (action === "other") {
    const select = $(`other-${item.id}`);
    if (!select.value) {
      say("Vælg først et emne på listen.");
      select.focus();
      return;
    }
    choose(item, { intent: select.value });
  } else if (action === "reopen") {
    state.undo.push({ ids: [item.id], words: "" });
    undoLast();
  }
});

$("items").addEventListener("change", (event) => {
  const box = event.target.closest("input[data-select]");
  if (!box) return;
  const id = Number(box.dataset.select);
  if (box.checked) state.selected.add(id);
  else state.selected.delete(id);
  renderSelection();
});

$("items").addEventListener("focusin", (event) => {
  const li = event.target.closest("#items > li");
  if (!li) return;
  const index = [...$("items").children].indexOf(li);
  if (index === state.current) return;
  state.current = index;
  [...$("items").children].forEach((node, position) => {
    node.tabIndex = position === index ? 0 : -1;
    node.classList.toggle("is-current", position === index);
  });
});

$("select-all").addEventListener("change", () => {
  if ($("select-all").checked) for (const item of state.items) state.selected.add(item.id);
  else state.selected.clear();
  for (const box of $("items").querySelectorAll("input[data-select]")) box.checked = state.selected.has(Number(box.dataset.select));
  renderSelection();
});

function selectedIds() {
  return state.items.filter((item) => state.selected.has(item.id)).map((item) => item.id);
}

$("batch-correct").addEventListener("click", () => {
  const ids = selectedIds();
  const guessless = state.items.filter((item) => ids.includes(item.id) && !item.predicted_intent);
  if (guessless.length) {
    say("Botten gættede ikke på et emne for en eller flere af de valgte. Vælg et emne i stedet.");
    return;
  }
  act(ids, { correct: true });
});
$("batch-discard").addEventListener("click", () => act(selectedIds(), { discard: true }));
$("batch-label").addEventListener("click", () => {
  if (!$("batch-intent").value) {
    say("Vælg først et emne til de valgte.");
    $("batch-intent").focus();
    return;
  }
  act(selectedIds(), { intent: $("batch-intent").value });
});
$("undo").addEventListener("click", () => undoLast());
$("more").addEventListener("click", () => load({ append: true }));

$("filters").addEventListener("submit", async (event) => {
  event.preventDefault();
  if (await load()) say(state.items.length === 1 ? "1 besked vist." : `${state.items.length} beskeder vist.`);
});
$("f-reset").addEventListener("click", async () => {
  $("filters").reset();
  if (await load()) say("Filtrene er nulstillet.");
});

function typing(target) {
  if (!target || !target.closest) return false;
  if (target.closest("select, textarea")) return true;
  const input = target.closest("input");
  return Boolean(input && input.type !== "checkbox");
}

document.addEventListener("keydown", (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey || $("content").hidden) return;
  const target = event.target;
  if (typing(target)) return;
  const inList = Boolean(target.closest && target.closest("#items"));
  const onBody = target === document.body || target === document.documentElement;
  const key = event.key;
  if (key === "u" || key === "U") {
    event.preventDefault();
    undoLast();
    return;
  }
  if (!inList && !onBody) return;
  if (key === "j" || key === "ArrowDown") {
    event.preventDefault();
    focusItem(inList ? state.current + 1 : state.current);
  } else if (key === "k" || key === "ArrowUp") {
    event.preventDefault();
    focusItem(inList ? state.current - 1 : state.current);
  } else if (key === "Enter" && target.matches && target.matches("#items > li")) {
    event.preventDefault();
    choose(itemOf(target), { correct: true });
  } else if (key === "x" || key === "X") {
    event.preventDefault();
    choose(currentItem(), { discard: true });
  } else if (/^[1-9]$/.test(key)) {
    const item = currentItem();
    const choice = item && choicesOf(item)[Number(key) - 1];
    event.preventDefault();
    if (choice) choose(item, { intent: choice.intent });
    else say(`Der er ikke noget emne nummer ${key} for denne besked.`);
  }
});

$("logout").addEventListener("click", () => logOut(session.token));

// -- start ------------------------------------------------------------------------------------

for (const [reason, words] of Object.entries(REASON_LABELS)) $("f-reason").append(el("option", { text: words, attrs: { value: reason } }));
for (const intent of INTENTS) $("f-intent").append(el("option", { text: intentWords(intent), attrs: { value: intent } }));
intentOptions($("batch-intent"), "Vælg emne …");

// On a phone there is rarely a keyboard: the keys' help starts folded.
if (window.matchMedia("(max-width: 40rem)").matches) $("keys-help").open = false;

const me = await session.start();
if (me) {
  $("session-tools").hidden = false;
  $("content").hidden = false;
  await load();
  await startModels(session, intentWords);
  await startIntents(session, intentWords);
}
