// The trainer's model half (issue #14, docs/trainer.md): export the accepted labels, train and
// compare a candidate in the background (status polled, cancellable), the latest comparison with
// its figures and plots, promotion when the gate allows it, the model history with restore, and
// one intent's figures and confusions. Trainers and admins (the page's gate, assets/staff.js).
//
// The plots are PNGs behind the staff login: fetched with the Authorization header (never a
// token in a URL) and drawn in a <canvas> from the blob (the page's CSP allows no blob: images).
import { ApiError, el } from "/assets/common.js";
import { API } from "/assets/staff.js";
import { loadIntents } from "/assets/traener-intents.js";

const $ = (id) => document.getElementById(id);
const POLL_MS = 2000;
const NUMBER = new Intl.NumberFormat("da-DK", { minimumFractionDigits: 3, maximumFractionDigits: 3 });
const WHEN = new Intl.DateTimeFormat("da-DK", { dateStyle: "medium", timeStyle: "short" });
const STEP_WORDS = {
  starting: "Starter træningen …",
  training: "Træner kandidaten …",
  loading_candidate: "Indlæser kandidaten …",
  loading_current: "Indlæser den nuværende model …",
  evaluating_candidate: "Tester kandidaten",
  evaluating_current: "Tester den nuværende model",
  writing_report: "Skriver rapporten …",
};
const PLOTS = [
  ["model_comparison_risk.png", "Krisebeskeder fanget, høj eller krise fanget og falske krisealarmer pr. testsæt, begge modeller"],
  ["model_comparison_f1.png", "F1 pr. emne for begge modeller, med forskellen"],
  ["model_comparison_confusion_current.png", "Forvekslingsmatrix for den nuværende model"],
  ["model_comparison_confusion_candidate.png", "Forvekslingsmatrix for kandidaten"],
];

let session = null;
let intentWords = (intent) => intent;
let pollTimer = null;
let lastState = null;
let comparison = null;
let busy = false;

function when(iso) {
  const moment = new Date(iso);
  return Number.isNaN(moment.getTime()) ? "" : WHEN.format(moment);
}

function share(value) {
  return value === null || value === undefined ? "–" : `${Math.round(value * 1000) / 10} %`.replace(".", ",");
}

function num(value) {
  return value === null || value === undefined ? "–" : NUMBER.format(value);
}

function duration(seconds) {
  if (!seconds && seconds !== 0) return "";
  const minutes = Math.floor(seconds / 60);
  return minutes ? `${minutes} min ${seconds % 60} s` : `${seconds} s`;
}

function modelWords(name) {
  if (!name) return "ukendt model";
  const file = name.split("/").pop();
  const stamp = /^candidate-(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})/.exec(file);
  if (stamp) return `kandidat trænet ${stamp[3]}.${stamp[2]}.${stamp[1]} kl. ${stamp[4]}.${stamp[5]} UTC (${file})`;
  return file;
}

function showError(error, what) {
  if (error instanceof ApiError && (error.status === 401 || error.status === 403)) return;
  $("model-error").textContent = `${what}: ${error instanceof ApiError ? error.message : "ukendt fejl"}`;
}

function say(text) {
  $("model-message").textContent = text;
}

// -- training status --------------------------------------------------------------------------

function statusWords(status) {
  if (status.running || status.state === "running") {
    let words = STEP_WORDS[status.step] || "Træningen kører …";
    if (status.file && String(status.step || "").startsWith("evaluating")) {
      words += ` på ${status.file} (${status.file_number} af ${status.files}) …`;
    }
    return `${words} I gang i ${duration(status.elapsed_seconds || 0)}.`;
  }
  const at = status.finished_at ? ` ${when(status.finished_at)}` : "";
  switch (status.state) {
    case "succeeded":
      return `Sidste træning blev færdig${at}.`;
    case "failed":
      return `Sidste træning mislykkedes${at}. Se var/training/training.log på serveren.`;
    case "cancelled":
      return `Sidste træning blev stoppet${at}.`;
    default:
      return "Ingen træning er i gang.";
  }
}

async function refreshStatus() {
  let status;
  try {
    status = await session.call(`${API}/trainer/training`);
  } catch (error) {
    showError(error, "Status for træningen kunne ikke hentes");
    return null;
  }
  const running = Boolean(status.running);
  $("train-status").textContent = statusWords(status);
  $("train-start").disabled = running;
  $("train-cancel").hidden = !running;
  if (lastState === "running" && !running) {
    await Promise.all([loadComparison(), loadHistory()]);
  }
  lastState = running ? "running" : status.state;
  clearTimeout(pollTimer);
  if (running) pollTimer = setTimeout(refreshStatus, POLL_MS);
  return status;
}

async function startTraining() {
  if (busy) return;
  busy = true;
  $("model-error").textContent = "";
  try {
    await session.call(`${API}/trainer/training`, { method: "POST" });
    say("Træningen er startet. Chatbotten svarer som før imens.");
    lastState = "running";
  } catch (error) {
    showError(error, "Træningen kunne ikke startes");
  } finally {
    busy = false;
  }
  await refreshStatus();
}

async function cancelTraining() {
  if (busy) return;
  busy = true;
  $("train-cancel").disabled = true;
  $("model-error").textContent = "";
  try {
    await session.call(`${API}/trainer/training/cancel`, { method: "POST" });
    say("Træningen er stoppet. Modellen i brug og den seneste sammenligning er uændrede.");
  } catch (error) {
    showError(error, "Træningen kunne ikke stoppes");
  } finally {
    busy = false;
    $("train-cancel").disabled = false;
  }
  lastState = null;
  await refreshStatus();
}

async function exportLabels() {
  if (busy) return;
  busy = true;
  $("model-error").textContent = "";
  try {
    const report = await session.call(`${API}/trainer/export`, { method: "POST", body: { dry_run: false } });
    const written = Object.values(report.written || {}).reduce((sum, entry) => sum + (entry.count || 0), 0);
    const conflicts = (report.conflicts || []).length;
    say(
      `${written} ${written === 1 ? "besked er skrevet" : "beskeder er skrevet"} ind i træningsdata` +
        (conflicts ? `, ${conflicts} står allerede under et andet emne og er ikke skrevet.` : ".") +
        " Næste træning bruger dem.",
    );
    await loadIntents(); // the examples' counts have changed
  } catch (error) {
    showError(error, "Beskederne kunne ikke skrives ind");
  } finally {
    busy = false;
  }
}

// -- the comparison ---------------------------------------------------------------------------

const COLUMNS = ["Beskeder", "Makro-F1", "Krisebeskeder fanget", "Høj eller krise fanget", "Falske krisealarmer"];

// data-label: on a phone each row is a card and each cell says what it is (assets/traener.css).
function cell(text, column) {
  return el("td", { text, attrs: { "data-label": COLUMNS[column] } });
}

function both(current, candidate, format) {
  return current ? `${format(current)} → ${format(candidate)}` : format(candidate);
}

async function drawPlot(name, label) {
  const response = await fetch(`${API}/trainer/comparison/image?name=${encodeURIComponent(name)}`, {
    headers: { Authorization: `Bearer ${session.token}` },
    cache: "no-store",
    credentials: "omit",
  });
  if (!response.ok) return null;
  const bitmap = await createImageBitmap(await response.blob());
  const canvas = el("canvas", { attrs: { role: "img", "aria-label": label, width: String(bitmap.width), height: String(bitmap.height) } });
  canvas.getContext("2d").drawImage(bitmap, 0, 0);
  bitmap.close();
  return el("figure", { className: "plot" }, [canvas, el("figcaption", { text: label })]);
}

async function loadComparison() {
  try {
    comparison = await session.call(`${API}/trainer/comparison`);
  } catch (error) {
    comparison = null;
    if (!(error instanceof ApiError && error.status === 404)) showError(error, "Sammenligningen kunne ikke hentes");
  }
  $("comparison").hidden = !comparison;
  $("comparison-empty").hidden = Boolean(comparison);
  if (!comparison) return;
  const { decision, models } = comparison;
  const current = models.current ? modelWords(models.current.name) : "ingen (første model)";
  $("comparison-meta").textContent =
    `Lavet ${when(comparison.created_at)}. Kandidat: ${modelWords(models.candidate.name)}. Nuværende: ${current}.` +
    (comparison.train_seconds ? ` Træningen tog ${duration(Math.round(comparison.train_seconds))}.` : "");
  $("comparison-verdict").textContent = decision.promotable
    ? "Kandidaten består kontrollen og kan tages i brug."
    : "Kandidaten kan ikke tages i brug. Grunde (på engelsk fra rapporten):";
  $("comparison-verdict").className = `verdict ${decision.promotable ? "ok" : "refused"}`;
  $("comparison-reasons").replaceChildren(...(decision.reasons || []).map((reason) => el("li", { text: reason, attrs: { lang: "en" } })));
  const rows = Object.entries(comparison.files).map(([name, scores]) => {
    const cur = scores.current;
    const cand = scores.candidate;
    const alarms = cur
      ? `${cur.false_alarms} → ${cand.false_alarms} af ${cand.normal_n}`
      : `${cand.false_alarms} af ${cand.normal_n}`;
    return el("tr", {}, [
      el("th", { text: name, attrs: { scope: "row" } }),
      cell(String(cand.n), 0),
      cell(both(cur && cur.macro_f1, cand.macro_f1, num), 1),
      cell(both(cur && cur.critical_recall, cand.critical_recall, share), 2),
      cell(both(cur && cur.hoc_recall, cand.hoc_recall, share), 3),
      cell(alarms, 4),
    ]);
  });
  $("comparison-table").tBodies[0].replaceChildren(...rows);
  $("promote").hidden = !decision.promotable;
  renderIntentPicker();
  const available = new Set(comparison.images || []);
  const figures = [];
  for (const [name, label] of PLOTS) {
    if (!available.has(name)) continue;
    try {
      const figure = await drawPlot(name, label);
      if (figure) figures.push(figure);
    } catch {
      // A plot that cannot be drawn leaves the figures in the table above.
    }
  }
  $("plots").replaceChildren(...figures);
}

function renderIntentPicker() {
  const f1 = comparison.per_intent_f1 || {};
  const intents = [...new Set([...Object.keys(f1.candidate || {}), ...Object.keys(f1.current || {})])].sort();
  const picked = $("intent-pick").value;
  $("intent-pick").replaceChildren(...intents.map((intent) => el("option", { text: intentWords(intent), attrs: { value: intent } })));
  if (intents.includes(picked)) $("intent-pick").value = picked;
  renderIntent();
}

function renderIntent() {
  if (!comparison) return;
  const intent = $("intent-pick").value;
  const f1 = comparison.per_intent_f1 || {};
  const cur = (f1.current || {})[intent];
  const cand = (f1.candidate || {})[intent];
  $("intent-f1").textContent = `F1 på testsættene: ${cur === undefined ? "" : `${num(cur)} (nuværende) → `}${num(cand)} (kandidat).`;
  const confusions = ((comparison.confusions || {}).candidate || []).filter((pair) => pair.gold === intent || pair.predicted === intent);
  $("intent-confusions").replaceChildren(
    ...(confusions.length
      ? confusions.map((pair) =>
          el("li", {
            text:
              pair.gold === intent
                ? `${pair.count} × læst som ${intentWords(pair.predicted)}`
                : `${pair.count} × ${intentWords(pair.gold)} læst som dette emne`,
          }),
        )
      : [el("li", { text: "Kandidaten forvekslede ikke dette emne i testsættene." })]),
  );
}

async function promote() {
  if (busy) return;
  busy = true;
  $("promote").disabled = true;
  $("model-error").textContent = "";
  say("Tager kandidaten i brug …");
  try {
    const row = await session.call(`${API}/trainer/models/promote`, { method: "POST" });
    say(`Kandidaten er i brug nu: ${modelWords(row.model)}. Chatbotten skiftede uden pause for de unge.`);
    $("promote").hidden = true;
  } catch (error) {
    say("");
    showError(error, "Kandidaten blev ikke taget i brug");
  } finally {
    busy = false;
    $("promote").disabled = false;
  }
  await loadHistory();
}

// -- history ----------------------------------------------------------------------------------

async function loadHistory() {
  let history;
  try {
    history = await session.call(`${API}/trainer/models`);
  } catch (error) {
    showError(error, "Modelhistorikken kunne ikke hentes");
    return;
  }
  const promotions = new Map(history.promotions.map((row) => [row.model, row]));
  $("history-empty").hidden = history.models.length > 0;
  $("history").replaceChildren(
    ...history.models.map((model) => {
      const row = promotions.get(model.model);
      const since = model.first_current_at ? `Taget i brug ${when(model.first_current_at)}.` : "Modellen før den første skift.";
      const figures = row && row.figures && row.figures.decision;
      const detail = figures ? ` Makro-F1 ${num(figures.candidate_macro_f1)} ved sammenligningen.` : "";
      const children = [
        el("p", { className: "history-model", text: modelWords(model.model) }),
        el("p", { className: "muted", text: since + detail }),
      ];
      if (model.active) children.push(el("p", { className: "badge", text: "I brug nu" }));
      else if (model.exists) {
        children.push(el("button", { className: "secondary restore", text: "Gendan denne model", attrs: { type: "button", "data-model": model.model } }));
      } else children.push(el("p", { className: "muted", text: "Filen findes ikke længere." }));
      return el("li", { className: model.active ? "active" : "" }, children);
    }),
  );
}

async function restore(model) {
  if (busy) return;
  busy = true;
  $("model-error").textContent = "";
  say("Gendanner modellen …");
  try {
    const row = await session.call(`${API}/trainer/models/restore`, { method: "POST", body: { model } });
    say(`Modellen er gendannet og i brug nu: ${modelWords(row.model)}.`);
  } catch (error) {
    say("");
    showError(error, "Modellen blev ikke gendannet");
  } finally {
    busy = false;
  }
  await Promise.all([loadHistory(), loadComparison()]);
}

export async function startModels(staffSession, wordsOfIntent) {
  session = staffSession;
  intentWords = wordsOfIntent;
  $("train-start").addEventListener("click", startTraining);
  $("train-cancel").addEventListener("click", cancelTraining);
  $("export-labels").addEventListener("click", exportLabels);
  $("promote").addEventListener("click", promote);
  $("intent-pick").addEventListener("change", renderIntent);
  $("history").addEventListener("click", (event) => {
    const button = event.target.closest && event.target.closest("button.restore");
    if (button) restore(button.dataset.model);
  });
  const status = await refreshStatus();
  lastState = status && status.running ? "running" : status && status.state;
  await Promise.all([loadComparison(), loadHistory()]);
}
