// The statistics page for leaders and admins (issue #17): GET /api/v1/statistics drawn as charts
// with Chart.js (assets/vendor/chart.umd.min.js, served by the service), each with a heading, a
// one-line summary in words and the same numbers as a real table right behind it. Cells the
// service suppressed arrive as the string "<5": the tables say "<5", the charts leave the bar
// out and mark the place "<5". The page never computes a number from a suppressed cell, and
// never a total of its own: totals come from the service. The CSV goes by fetch() with the token
// in the Authorization header and is saved from a Blob, so the token is never in a URL.
import { ApiError, el } from "/assets/common.js";
import { API, EXPIRED, logOut, refreshLogin, StaffSession, storedToken } from "/assets/staff.js";

const $ = (id) => document.getElementById(id);
const SUPPRESSED = "<5";
const TZ = "Europe/Copenhagen";
const WEEK = /^(\d{4})-W(\d{2})$/;
const MONTH = /^(\d{4})-(\d{2})$/;
const HOUR = /^\d{2}$/;
const NUMBER = new Intl.NumberFormat("da-DK", { maximumFractionDigits: 1 });
const PERCENT = new Intl.NumberFormat("da-DK", { style: "percent", maximumFractionDigits: 0 });
const MOMENT = new Intl.DateTimeFormat("da-DK", {
  timeZone: TZ,
  day: "numeric",
  month: "short",
  year: "numeric",
  hour: "2-digit",
  minute: "2-digit",
});

// Colours with at least 3:1 against white (bars are graphics, WCAG 1.4.11).
const PALETTE = ["#1d5a85", "#8a4500", "#25632d", "#6b3f8f", "#a3231b", "#52575e", "#0f6f73", "#8c2f6b"];
const KEY_COLOURS = {
  normal: "#1d5a85",
  high: "#8a4500",
  critical: "#a3231b",
  ja: "#25632d",
  lidt: "#8a4500",
  maaske: "#8a4500",
  nej: "#a3231b",
};

// How each table is drawn. Every table has its categories as rows and the weeks, months or hours
// as columns. `overTime`: the columns along the bottom, one line or bar series per row; the others
// show each row's total for the whole period (one bar per category), the grid is in the table.
const LOOK = {
  volume: { wide: true, line: true, overTime: true },
  topics: { wide: true, horizontal: true, share: true },
  risk_by_hour: { wide: true, stacked: true, overTime: true },
  wait: { share: true },
  handling: { share: true },
  feedback_helped: { share: true },
  feedback_write_again: { share: true },
  feedback_rating: { share: true },
  registration_topics: { horizontal: true },
  age: { share: true },
  gender: { share: true },
  referral: { horizontal: true, share: true },
  outcome: { horizontal: true, share: true },
  service_hours: { wide: true, overTime: true },
};

const session = new StaffSession({
  roles: ["leader", "admin"],
  pageName: "statistiksiden",
});

const state = { data: null, charts: [] };

// -- small helpers ------------------------------------------------------------------------------

const suppressed = (value) => value === SUPPRESSED;
const shown = (value) => (value === null || value === undefined ? "–" : suppressed(value) ? SUPPRESSED : NUMBER.format(value));
const numeric = (value) => typeof value === "number" && Number.isFinite(value);

function refused(error) {
  return error instanceof ApiError && (error.status === 401 || error.status === 403);
}

function message(error) {
  return error instanceof ApiError ? error.message : "Noget gik galt. Prøv igen.";
}

// "2026-W07" -> "uge 7, 2026"; "2026-03" -> "marts 2026"; anything else as it came.
function periodWords(value) {
  const week = WEEK.exec(value || "");
  if (week) return `uge ${Number(week[2])}, ${week[1]}`;
  const month = MONTH.exec(value || "");
  if (month) {
    const name = new Intl.DateTimeFormat("da-DK", { month: "long", timeZone: "UTC" }).format(
      new Date(Date.UTC(Number(month[1]), Number(month[2]) - 1, 1)),
    );
    return `${name} ${month[1]}`;
  }
  return value || "";
}

// -- reading a table as a chart --------------------------------------------------------------

// What the chart shows: over time (the columns along the bottom, a series per row), or each row's
// total for the period (one bar per category, in one colour per known key).
function orient(table, look) {
  const columns = table.columns || [];
  const rows = table.rows || [];
  if (look.overTime && columns.length > 1) {
    return {
      categories: columns.map((column) => ({ key: column.key, label: column.label })),
      series: rows.map((row) => ({ key: row.key, label: row.label, values: row.cells })),
    };
  }
  return {
    categories: rows.map((row) => ({ key: row.key, label: row.label })),
    series: [{ key: "total", label: "I alt", values: rows.map((row) => row.total), perCategoryKeys: true }],
  };
}

function colourOf(key, index) {
  return KEY_COLOURS[key] || PALETTE[index % PALETTE.length];
}

// One sentence in words for the chart: the total (the service's own), the largest number shown
// and how many places are under 5. Never a number worked out from a suppressed cell.
function summaryOf(table, shape, look) {
  const parts = [];
  const total = table.totals ? table.totals.total : null;
  if (numeric(total)) parts.push(`I alt ${NUMBER.format(total)}.`);
  else if (suppressed(total)) parts.push("I alt under 5.");
  let best = null;
  shape.series.forEach((series) =>
    series.values.forEach((value, index) => {
      if (numeric(value) && value > 0 && (!best || value > best.value)) best = { value, index, series };
    }),
  );
  if (best) {
    const category = shape.categories[best.index];
    const where = HOUR.test(category.key) ? `kl. ${category.label}` : category.label;
    const which = shape.series.length > 1 ? ` (${best.series.label})` : "";
    const share = look.share && numeric(total) && total > 0 ? `, ${PERCENT.format(best.value / total)} af alle` : "";
    parts.push(`Flest: ${where}${which} med ${NUMBER.format(best.value)}${share}.`);
  } else if (!parts.length || numeric(total)) {
    parts.push("Ingen tal over 4 i perioden.");
  }
  const hidden = shape.series.reduce((count, series) => count + series.values.filter(suppressed).length, 0);
  if (hidden) parts.push(hidden === 1 ? "Ét tal er under 5 og vises ikke." : `${hidden} tal er under 5 og vises ikke.`);
  return parts.join(" ");
}

// Chart.js plugin: writes "<5" where a suppressed bar would have been (the bar itself is left
// out, so no height ever suggests a number).
const suppressedMarks = {
  id: "suppressedMarks",
  afterDatasetsDraw(chart) {
    const { ctx } = chart;
    const horizontal = chart.options.indexAxis === "y";
    const indexScale = horizontal ? chart.scales.y : chart.scales.x;
    const valueScale = horizontal ? chart.scales.x : chart.scales.y;
    const stacked = Boolean(chart.options.scales.x.stacked);
    const marked = new Set();
    ctx.save();
    ctx.font = "600 12px system-ui, sans-serif";
    ctx.fillStyle = "#4a5058";
    chart.data.datasets.forEach((dataset, datasetIndex) => {
      const meta = chart.getDatasetMeta(datasetIndex);
      if (meta.hidden) return;
      (dataset.suppressedAt || []).forEach((index) => {
        if (stacked && marked.has(index)) return;
        marked.add(index);
        const element = meta.data[index];
        let along = indexScale.getPixelForValue(index);
        if (!stacked && element && Number.isFinite(horizontal ? element.y : element.x)) along = horizontal ? element.y : element.x;
        let top = 0;
        if (stacked) {
          for (const other of chart.data.datasets) if (numeric(other.data[index])) top += other.data[index];
        }
        const base = valueScale.getPixelForValue(top);
        if (horizontal) {
          ctx.textAlign = "left";
          ctx.textBaseline = "middle";
          ctx.fillText(SUPPRESSED, base + 4, along);
        } else {
          ctx.textAlign = "center";
          ctx.textBaseline = "bottom";
          ctx.fillText(SUPPRESSED, along, base - 3);
        }
      });
    });
    ctx.restore();
  },
};

function drawChart(canvas, shape, look) {
  const multi = shape.series.length > 1;
  const datasets = shape.series.map((series, index) => {
    const colours = series.perCategoryKeys && shape.categories.some((c) => KEY_COLOURS[c.key])
      ? shape.categories.map((category, i) => colourOf(category.key, i))
      : colourOf(series.key, index);
    return {
      label: series.label,
      data: series.values.map((value) => (numeric(value) ? value : null)),
      suppressedAt: series.values.flatMap((value, i) => (suppressed(value) ? [i] : [])),
      backgroundColor: colours,
      borderColor: colours,
      borderWidth: look.line ? 2 : 0,
      maxBarThickness: 48,
      pointRadius: 3,
      spanGaps: false,
    };
  });
  const horizontal = Boolean(look.horizontal);
  const valueAxis = {
    beginAtZero: true,
    stacked: Boolean(look.stacked),
    ticks: { precision: 0 },
    grid: { color: "#e3e4e6" },
    // Room for the "<5" marks above the tallest bar.
    grace: "8%",
  };
  // Category names are never skipped; weeks and hours may be (every other label on a phone).
  const indexAxis = { stacked: Boolean(look.stacked), grid: { display: false }, ticks: { autoSkip: !look.horizontal, maxRotation: 0 } };
  return new window.Chart(canvas, {
    type: look.line && shape.categories.length > 1 ? "line" : "bar",
    data: { labels: shape.categories.map((category) => category.label), datasets },
    options: {
      locale: "da-DK",
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      indexAxis: horizontal ? "y" : "x",
      // Room for the "<5" marks at the ends of the axes.
      layout: { padding: { top: 6, right: 18 } },
      scales: horizontal ? { x: valueAxis, y: indexAxis } : { x: indexAxis, y: valueAxis },
      plugins: {
        legend: { display: multi, position: "bottom", labels: { boxWidth: 14, color: "#1c1f23" } },
        tooltip: { enabled: true },
      },
      color: "#1c1f23",
      font: { family: "system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif" },
    },
    plugins: [suppressedMarks],
  });
}

// -- the table right behind each chart ------------------------------------------------------------

function cell(tag, value, attrs = {}) {
  const text = shown(value);
  return el(tag, { className: suppressed(value) ? "is-suppressed" : undefined, text, attrs });
}

function buildTable(table) {
  const columns = table.columns || [];
  const corner = [table.row_label, table.column_label].filter(Boolean).join(" / ") || " ";
  const head = el("tr", {}, [
    el("th", { text: corner, attrs: { scope: "col" } }),
    ...columns.map((column) => el("th", { text: column.label, attrs: { scope: "col" } })),
    columns.length > 1 ? el("th", { text: "I alt", attrs: { scope: "col" } }) : null,
  ]);
  const rows = (table.rows || []).map((row) =>
    el("tr", {}, [
      el("th", { text: row.label, attrs: { scope: "row" } }),
      ...(columns.length ? row.cells.map((value) => cell("td", value)) : [cell("td", row.total)]),
      columns.length > 1 ? cell("td", row.total, {}) : null,
    ]),
  );
  const foot = table.totals
    ? el("tfoot", {}, [
        el("tr", {}, [
          el("th", { text: "I alt", attrs: { scope: "row" } }),
          ...(columns.length ? table.totals.cells.map((value) => cell("td", value)) : [cell("td", table.totals.total)]),
          columns.length > 1 ? cell("td", table.totals.total) : null,
        ]),
      ])
    : null;
  return el("table", { className: "stats-table" }, [
    el("caption", { text: table.title }),
    el("thead", {}, [head]),
    el("tbody", {}, rows),
    foot,
  ]);
}

function hasSuppressed(table) {
  const values = [
    ...(table.rows || []).flatMap((row) => [...row.cells, row.total]),
    ...(table.totals ? [...table.totals.cells, table.totals.total] : []),
  ];
  return values.some(suppressed);
}

function card(table) {
  const look = LOOK[table.id] || {};
  const shape = orient(table, look);
  const headingId = `chart-${table.id}-heading`;
  const summaryId = `chart-${table.id}-summary`;
  const summary = summaryOf(table, shape, look);
  const empty = shape.categories.length === 0;
  const canvas = el("canvas", {
    attrs: { id: `chart-${table.id}`, role: "img", "aria-label": `${table.title}. ${summary}` },
  });
  const size = look.horizontal && shape.categories.length > 10 ? " taller" : look.horizontal && shape.categories.length > 5 ? " tall" : "";
  const box = el("div", { className: `chart-box${size}` }, [canvas]);
  const note = hasSuppressed(table)
    ? el("p", { className: "suppressed-note", text: "Tal under 5 vises ikke. De står som „<5“ i tabellen." })
    : null;
  const details = el("details", { className: "table-details" }, [
    el("summary", { text: "Vis tallene som tabel" }),
    el(
      "div",
      { className: "table-wrap", attrs: { role: "region", tabindex: "0", "aria-label": `${table.title}: tabel` } },
      [buildTable(table)],
    ),
  ]);
  const section = el(
    "section",
    {
      className: `panel chart-card${look.wide ? " wide" : ""}`,
      attrs: { "aria-labelledby": headingId, "data-table": table.id },
    },
    [
      el("h2", { text: table.title, attrs: { id: headingId } }),
      el("p", { className: "chart-summary", text: summary, attrs: { id: summaryId } }),
      empty ? el("p", { className: "empty", text: "Ingen tal i perioden." }) : box,
      note,
      details,
    ],
  );
  return { section, canvas: empty ? null : canvas, shape, look };
}

// -- the page ---------------------------------------------------------------------------------

// Median and 90th percentile come as words from the service ("under 15 min"), all "<5" when
// fewer than 5 conversations are behind them.
function renderKeyFigures(summaries) {
  const list = $("key-figures");
  const words = {
    wait: "Ventetid til en rådgiver",
    handling: "Samtaletid med rådgiver",
  };
  const items = [];
  for (const [key, title] of Object.entries(words)) {
    const figures = summaries && summaries[key];
    if (!figures) continue;
    let main;
    let sub;
    if (figures.n === 0) {
      main = "Ingen samtaler i perioden";
      sub = "";
    } else if (suppressed(figures.n) || suppressed(figures.median)) {
      main = "Under 5 samtaler";
      sub = " · vises ikke, så ingen kan genkendes";
    } else {
      main = `Median ${figures.median}`;
      sub = ` · 9 ud af 10: ${figures.p90} · ${shown(figures.n)} samtaler`;
    }
    items.push(
      el("div", { className: "figure" }, [
        el("dt", { text: title }),
        el("dd", {}, [el("span", { className: "figure-main", text: main }), sub ? el("span", { className: "figure-sub", text: sub }) : null]),
      ]),
    );
  }
  list.replaceChildren(...items);
  list.hidden = items.length === 0;
}

function render() {
  const data = state.data;
  for (const chart of state.charts) chart.destroy();
  state.charts = [];
  const per = data.period === "month" ? "pr. måned" : "pr. uge";
  const when = data.generated_at ? ` Tallene er fra ${MOMENT.format(new Date(data.generated_at))}.` : "";
  $("stats-state").textContent = `Viser ${periodWords(data.from)} til og med ${periodWords(data.to)}, ${per}.${when}`;
  $("suppression").textContent = data.suppression || "";
  renderKeyFigures(data.summaries);
  if (WEEK.test(data.from || "")) $("p-from").value = data.from;
  if (WEEK.test(data.to || "")) $("p-to").value = data.to;
  if (data.period === "week" || data.period === "month") $("p-period").value = data.period;
  const cards = (data.tables || []).map(card);
  $("charts").replaceChildren(...cards.map((item) => item.section));
  if (!window.Chart) {
    $("stats-state").textContent += " Graferne kunne ikke tegnes; tallene står i tabellerne.";
    for (const details of document.querySelectorAll(".table-details")) details.open = true;
    return;
  }
  for (const item of cards) if (item.canvas) state.charts.push(drawChart(item.canvas, item.shape, item.look));
}

function periodParams() {
  const params = new URLSearchParams({ period: $("p-period").value });
  if ($("p-from").value) params.set("from", $("p-from").value);
  if ($("p-to").value) params.set("to", $("p-to").value);
  return params;
}

function checkPeriod() {
  let ok = true;
  for (const id of ["p-from", "p-to"]) {
    const input = $(id);
    const value = input.value.trim();
    input.value = value.toUpperCase().replace(/^(\d{4})-?W?(\d{2})$/i, "$1-W$2");
    const bad = value && !WEEK.test(input.value);
    $(`${id}-error`).textContent = bad ? "Skriv ugen som år og ugenummer, fx 2026-W40." : "";
    if (bad) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
    if (bad && ok) input.focus();
    ok = ok && !bad;
  }
  if (ok && $("p-from").value && $("p-to").value && $("p-to").value < $("p-from").value) {
    $("p-to-error").textContent = "„Til og med uge“ skal ligge på eller efter „Fra uge“.";
    $("p-to").setAttribute("aria-invalid", "true");
    $("p-to").focus();
    ok = false;
  }
  return ok;
}

async function load(event) {
  if (event) event.preventDefault();
  $("period-error").textContent = "";
  if (!checkPeriod()) return;
  $("stats-state").textContent = "Henter tallene …";
  try {
    state.data = await session.call(`${API}/statistics?${periodParams()}`);
  } catch (error) {
    $("stats-state").textContent = "";
    if (!refused(error)) $("period-error").textContent = message(error);
    return;
  }
  render();
}

function fetchCsv(path, token) {
  return fetch(path, {
    headers: { Authorization: `Bearer ${token}`, Accept: "text/csv" },
    cache: "no-store",
    credentials: "omit",
  });
}

async function downloadCsv() {
  $("period-error").textContent = "";
  $("csv-state").textContent = "";
  if (!checkPeriod()) return;
  const path = `${API}/statistics/export.csv?${periodParams()}`;
  const button = $("csv");
  button.disabled = true;
  try {
    let response = await fetchCsv(path, storedToken());
    if (response.status === 401) {
      const token = await refreshLogin();
      if (token) response = await fetchCsv(path, token);
    }
    if (response.status === 401) return session.refuse(401, EXPIRED);
    if (response.status === 403) return session.refuse(403);
    if (!response.ok) {
      let detail = "Filen kunne ikke hentes. Prøv igen om lidt.";
      try {
        const payload = await response.json();
        if (payload && typeof payload.detail === "string") detail = payload.detail;
      } catch {
        /* not JSON: the plain sentence */
      }
      $("period-error").textContent = detail;
      return;
    }
    const blob = await response.blob();
    const named = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(response.headers.get("Content-Disposition") || "");
    const name = named ? decodeURIComponent(named[1]) : "statistik.csv";
    const url = URL.createObjectURL(blob);
    const link = el("a", { className: "visually-hidden", text: name, attrs: { href: url, download: name } });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
    $("csv-state").textContent = `Filen ${name} er hentet.`;
  } catch {
    $("period-error").textContent = "Der er ingen forbindelse lige nu. Prøv igen om lidt.";
  } finally {
    button.disabled = false;
  }
}

$("logout").addEventListener("click", () => logOut(session.token));
$("period-form").addEventListener("submit", load);
$("csv").addEventListener("click", downloadCsv);
for (const id of ["p-from", "p-to"]) {
  $(id).addEventListener("input", () => {
    $(`${id}-error`).textContent = "";
    $(id).removeAttribute("aria-invalid");
  });
}

const me = await session.start();
if (me) {
  $("session-tools").hidden = false;
  $("to-admin").hidden = me.role !== "admin";
  $("content").hidden = false;
  await load();
}
