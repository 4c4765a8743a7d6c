// The trainer's per-intent view (issue #14, docs/trainer.md "One intent"): every intent's number
// of training examples and its figures from the last cross-validation, marked when its data looks
// thin; one intent's examples (searchable), what its examples were read as and which intents'
// examples were read as it, each with example pairs (the misread text next to the nearest
// example of the other intent). Served by GET /api/v1/trainer/intents[/{intent}].
import { ApiError, el } from "/assets/common.js";
import { API } from "/assets/staff.js";

const $ = (id) => document.getElementById(id);
const NUMBER = new Intl.NumberFormat("da-DK", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const COUNT = new Intl.NumberFormat("da-DK");
const WHEN = new Intl.DateTimeFormat("da-DK", { dateStyle: "medium", timeStyle: "short" });
const SHOWN = 40; // examples shown before "Vis alle"

let session = null;
let intentWords = (intent) => intent;
let detail = null;
let showAll = false;

function num(value) {
  return value === null || value === undefined ? "–" : NUMBER.format(value);
}

function pct(value) {
  return value === null || value === undefined ? "–" : `${Math.round(value * 100)} %`;
}

function times(count) {
  return count === 1 ? "1 gang" : `${COUNT.format(count)} gange`;
}

function metaText(cv) {
  if (!cv) return "Der er ingen krydsvalidering endnu. Den laves af make nlu-report; indtil da vises kun eksemplerne.";
  const moment = new Date(cv.generated);
  const when = Number.isNaN(moment.getTime()) ? "" : ` fra ${WHEN.format(moment)}`;
  const size = cv.examples ? ` på ${COUNT.format(cv.examples)} eksempler` : "";
  const base = `Krydsvalidering i ${cv.folds || 5} dele${when}${size}.`;
  return cv.stale ? `${base} Træningsdata er ændret siden, så tallene er fra før ændringen.` : base;
}

function showError(error, what) {
  if (error instanceof ApiError && (error.status === 401 || error.status === 403)) return;
  $("intents-error").textContent = `${what}: ${error instanceof ApiError ? error.message : "ukendt fejl"}`;
}

function intentRow(row) {
  // The visible text is the accessible name (no aria-label): what a screen reader says is what
  // a sighted trainer reads, as WCAG 2.5.3 asks.
  const button = el("button", { className: "intent-pick-button", attrs: { type: "button", "data-intent": row.intent } }, [
    el("span", { className: "intent-name", text: intentWords(row.intent) }),
    " ",
    el("span", { className: "intent-figures", text: `${COUNT.format(row.examples)} eksempler · F1 ${num(row.f1)}` }),
    row.thin ? " " : null,
    row.thin ? el("span", { className: "badge thin", text: "Tynde data" }) : null,
  ]);
  return el("li", {}, [button]);
}

export async function loadIntents() {
  $("intents-error").textContent = "";
  try {
    const body = await session.call(`${API}/trainer/intents`);
    $("cv-meta").textContent = metaText(body.cross_validation);
    $("intent-list").replaceChildren(...body.intents.map(intentRow));
    if (detail) await openIntent(detail.intent, false);
  } catch (error) {
    showError(error, "Emnerne kunne ikke hentes");
  }
}

function pairItem(pair, misreadWords, nearestWords) {
  return el("li", { className: "pair" }, [
    el("p", { className: "pair-text" }, [el("span", { className: "pair-label", text: `${misreadWords}: ` }), el("q", { text: pair.text })]),
    pair.nearest
      ? el("p", { className: "pair-text" }, [el("span", { className: "pair-label", text: `${nearestWords}: ` }), el("q", { text: pair.nearest })])
      : null,
  ]);
}

function confusionItems(confusions, direction) {
  if (!confusions.length) {
    const none = direction === "read_as" ? "Ingen af dets eksempler blev læst forkert." : "Ingen andre emners eksempler blev læst som dette.";
    return [el("li", { className: "muted", text: none })];
  }
  return confusions.map((confusion) => {
    const other = intentWords(confusion.intent);
    const own = intentWords(detail.intent);
    const heading =
      direction === "read_as" ? `Læst som ${other}: ${times(confusion.count)}` : `${other} læst som dette emne: ${times(confusion.count)}`;
    const pairs = confusion.pairs.map((pair) =>
      direction === "read_as"
        ? pairItem(pair, `Eksempel på ${own}`, `ligner dette eksempel på ${other}`)
        : pairItem(pair, `Eksempel på ${other}`, `ligner dette eksempel på ${own}`),
    );
    return el("li", { className: "confusion" }, [el("p", { className: "confusion-heading", text: heading }), el("ul", { className: "pairs" }, pairs)]);
  });
}

function renderExamples() {
  if (!detail) return;
  const needle = $("examples-filter").value.trim().toLocaleLowerCase("da-DK");
  const matching = detail.examples.filter((example) => !needle || example.text.toLocaleLowerCase("da-DK").includes(needle));
  const shown = showAll || needle ? matching : matching.slice(0, SHOWN);
  $("examples").replaceChildren(...shown.map((example) => el("li", {}, [el("span", { text: example.text }), el("span", { className: "example-file", text: ` (${example.file})` })])));
  const total = detail.examples.length;
  $("examples-count").textContent = needle
    ? `${COUNT.format(matching.length)} af ${COUNT.format(total)} eksempler indeholder “${$("examples-filter").value.trim()}”.`
    : `Viser ${COUNT.format(shown.length)} af ${COUNT.format(total)} eksempler.`;
  $("examples-more").hidden = Boolean(needle) || shown.length >= matching.length;
  $("examples-more").textContent = `Vis alle ${COUNT.format(total)}`;
}

function figuresText(body) {
  const files = Object.entries(body.files)
    .map(([file, count]) => `${file} (${COUNT.format(count)})`)
    .join(", ");
  const count = `${COUNT.format(body.examples.length)} eksempler${files ? ` i ${files}` : ""}; et emne har i midten ${COUNT.format(body.median_examples)}.`;
  const cv = body.cross_validation;
  const figures = cv
    ? ` Krydsvalidering: F1 ${num(cv.f1)}; ${pct(cv.recall)} af emnets ${COUNT.format(cv.support || 0)} eksempler blev genkendt, og ${pct(cv.precision)} af gættene på emnet var rigtige.`
    : " Ingen krydsvalidering endnu.";
  return `${count}${figures}${body.thin ? " Tynde data: emnet har brug for flere eksempler eller skarpere eksempler." : ""}`;
}

async function openIntent(intent, focus = true) {
  $("intents-error").textContent = "";
  try {
    const body = await session.call(`${API}/trainer/intents/${encodeURIComponent(intent)}`);
    if (!detail || detail.intent !== intent) {
      showAll = false;
      $("examples-filter").value = "";
    }
    detail = body;
    $("intent-detail").hidden = false;
    $("intent-detail-heading").textContent = intentWords(intent);
    $("intent-detail-figures").textContent = figuresText(body);
    const cv = body.cross_validation;
    $("read-as").replaceChildren(...(cv ? confusionItems(cv.read_as, "read_as") : [el("li", { className: "muted", text: "Ingen krydsvalidering endnu." })]));
    $("taken-for").replaceChildren(...(cv ? confusionItems(cv.taken_for, "taken_for") : [el("li", { className: "muted", text: "Ingen krydsvalidering endnu." })]));
    for (const button of document.querySelectorAll(".intent-pick-button")) {
      button.setAttribute("aria-pressed", String(button.dataset.intent === intent));
    }
    renderExamples();
    if (focus) $("intent-detail-heading").focus();
  } catch (error) {
    showError(error, "Emnet kunne ikke hentes");
  }
}

export async function startIntents(staffSession, wordsOfIntent) {
  session = staffSession;
  intentWords = wordsOfIntent;
  $("intent-list").addEventListener("click", (event) => {
    const button = event.target.closest && event.target.closest("button.intent-pick-button");
    if (button) openIntent(button.dataset.intent);
  });
  $("examples-filter").addEventListener("input", renderExamples);
  $("examples-more").addEventListener("click", () => {
    showAll = true;
    renderExamples();
  });
  await loadIntents();
}
