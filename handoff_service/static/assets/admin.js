// The admin pages: the weekly shift calendar, closed dates and extra shifts, staff users and the
// audit trail, all on the existing admin API (shifts.py, users.py, audit.py). The service owns
// every rule (DST, overnight shifts, the last admin); this page shows its Danish `detail` next to
// the field it is about.
import { ApiError, el } from "/assets/common.js";
import { API, logOut, ROLE_WORDS, StaffSession } from "/assets/staff.js";

const $ = (id) => document.getElementById(id);
const TZ = "Europe/Copenhagen";
const WEEKDAYS = ["Mandag", "Tirsdag", "Onsdag", "Torsdag", "Fredag", "Lørdag", "Søndag"];
const ROLE_NAMES = { counsellor: "Rådgiver", trainer: "Træner", leader: "Leder", admin: "Admin" };
const ACTION_WORDS = {
  open: "Åbnede en samtale",
  follow: "Fulgte en samtale",
  claim: "Tog en samtale fra køen",
  reply: "Svarede i en samtale",
  reply_for_later: "Efterlod et svar til senere",
  close: "Afsluttede en samtale",
  release: "Satte en samtale tilbage i køen",
  release_stale: "Samtale tilbage i køen (den unge ventede uden svar)",
  release_on_disable: "Samtale tilbage i køen (brugeren blev deaktiveret)",
  anonymity_broken: "Markerede anonymiteten som brudt",
  note_added: "Skrev en intern note",
  transfer: "Gav en samtale videre til en kollega",
  shifts_changed: "Ændrede vagtplanen",
  user_created: "Oprettede en bruger",
  user_role_changed: "Skiftede en brugers rolle",
  user_password_set: "Satte en ny adgangskode",
  user_disabled: "Deaktiverede en bruger",
  user_enabled: "Aktiverede en bruger",
  user_unlocked: "Låste en bruger op",
  registration_saved: "Registrerede en samtale (anonymt, kun tal)",
};
// The API's field names, as the labels on this page say them.
const FIELD_LABELS = {
  weekday: "Ugedag",
  starts_at: "Starter kl.",
  ends_at: "Slutter kl.",
  counsellors: "Antal rådgivere",
  on_date: "Dato",
  kind: "Hvad sker der den dag?",
  note: "Note",
  username: "Brugernavn",
  password: "Adgangskode",
  role: "Rolle",
};
const AUDIT_LIMIT = 1000;
const AUDIT_PAGE = 100; // lines shown at a time ("Vis flere")

const DATE_KEY = new Intl.DateTimeFormat("sv-SE", { timeZone: TZ, year: "numeric", month: "2-digit", day: "2-digit" });
const SHORT_DATE = new Intl.DateTimeFormat("da-DK", { timeZone: TZ, day: "numeric", month: "short", year: "numeric" });
const TIME = new Intl.DateTimeFormat("da-DK", { timeZone: TZ, hour: "2-digit", minute: "2-digit" });
const LONG_DATE = new Intl.DateTimeFormat("da-DK", {
  timeZone: "UTC",
  weekday: "long",
  day: "numeric",
  month: "long",
  year: "numeric",
});

const session = new StaffSession({
  roles: ["admin"],
  pageName: "admin-siderne",
});
const call = (path, options) => session.call(path, options);

const state = {
  me: null,
  organisations: [],
  organisation: null, // the slug whose calendar and users the page shows
  calendar: null,
  users: [],
  editingWeekly: null,
  editingException: null,
  audit: [],
  auditShown: [],
  auditVisible: AUDIT_PAGE,
};

// -- small helpers ------------------------------------------------------------------------------

// "1. dec. 2026 kl. 21.04", Danish time whatever the computer's clock is set to.
function moment(iso) {
  const when = new Date(iso);
  return `${SHORT_DATE.format(when)} kl. ${TIME.format(when)}`;
}

const clock = (value) => (value ? value.slice(0, 5).replace(":", ".") : "");
const inputTime = (value) => (value ? value.slice(0, 5) : "");

function shiftTimes(starts, ends) {
  const overnight = ends <= starts;
  return `kl. ${clock(starts)}–${clock(ends)}${overnight ? " (over midnat)" : ""}`;
}

function counsellorWords(count) {
  return count === 1 ? "1 rådgiver" : `${count} rådgivere`;
}

function longDate(isoDate) {
  const [year, month, day] = isoDate.split("-").map(Number);
  const text = LONG_DATE.format(new Date(Date.UTC(year, month - 1, day)));
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function refused(error) {
  // 401 and 403 have already replaced the page with the gate (staff.js).
  return error instanceof ApiError && (error.status === 401 || error.status === 403);
}

function message(error) {
  return error instanceof ApiError ? error.message : "Noget gik galt. Prøv igen.";
}

// "Feltet 'starts_at' mangler." reads "Feltet „Starter kl.“ mangler." on this page.
function danish(detail) {
  return detail.replace(/Feltet '([a-z_]+)'/g, (all, name) => (FIELD_LABELS[name] ? `Feltet „${FIELD_LABELS[name]}“` : all));
}

// A form's errors: each field has <p id="<input>-error">; the rest goes to the form's own line.
class FormErrors {
  constructor(formError, fields, rules = []) {
    this.formError = formError; // element
    this.fields = fields; // {api field name: input id}
    this.rules = rules; // [[regex on the detail, input id]]
  }

  clear() {
    this.formError.textContent = "";
    for (const id of Object.values(this.fields)) this.set(id, "");
  }

  set(inputId, text) {
    const input = $(inputId);
    const slot = $(`${inputId}-error`);
    if (slot) slot.textContent = text;
    if (input) {
      if (text) input.setAttribute("aria-invalid", "true");
      else input.removeAttribute("aria-invalid");
    }
  }

  show(error) {
    const detail = message(error);
    const named = /Feltet '([a-z_]+)'/.exec(detail);
    let target = named && this.fields[named[1]];
    if (!target) for (const [pattern, id] of this.rules) if (pattern.test(detail) && !target) target = id;
    if (target && $(`${target}-error`)) {
      this.set(target, danish(detail));
      $(target).focus();
    } else {
      this.formError.textContent = danish(detail);
    }
  }
}

function confirmBox(text, yesText, onYes, onNo) {
  const yes = el("button", { className: "danger", text: yesText, attrs: { type: "button" } });
  const no = el("button", { className: "secondary", text: "Fortryd", attrs: { type: "button" } });
  const box = el("div", { className: "confirm", attrs: { role: "group", "aria-label": text } }, [el("p", { text }), yes, no]);
  yes.addEventListener("click", onYes);
  no.addEventListener("click", onNo);
  return { box, yes };
}

// -- sections --------------------------------------------------------------------------------

const SECTIONS = ["vagter", "undtagelser", "brugere", "log"];

function showSection() {
  const wanted = location.hash.replace("#", "");
  const name = SECTIONS.includes(wanted) ? wanted : "vagter";
  for (const section of SECTIONS) $(section).hidden = section !== name;
  for (const link of document.querySelectorAll(".section-nav a")) {
    if (link.dataset.section === name) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  if (name === "vagter" || name === "undtagelser") loadCalendar();
  else if (name === "brugere") loadUsers();
  else if (name === "log") loadUsers().then(loadAudit);
}

// -- the calendar -------------------------------------------------------------------------------

// -- the organisation ----------------------------------------------------------------------------
// A platform admin picks any organisation; an organisation's admin sees only their own (the API
// refuses the others: docs/organisations.md).

function orgQuery() {
  return state.organisation ? `organisation=${encodeURIComponent(state.organisation)}` : "";
}

function currentOrganisation() {
  return state.organisations.find((o) => o.slug === state.organisation) || null;
}

async function loadOrganisations() {
  state.me = await call(`${API}/auth/me`);
  const all = await call(`${API}/organisations`);
  const own = state.me.organisation;
  state.organisations = own ? all.filter((o) => o.slug === own.slug) : all;
  const defaultOne = all.find((o) => o.is_default);
  state.organisation = own ? own.slug : defaultOne ? defaultOne.slug : all[0]?.slug || null;
  const select = $("org-select");
  select.replaceChildren(
    ...state.organisations.map((o) => el("option", { text: o.name, attrs: { value: o.slug } })),
  );
  select.value = state.organisation || "";
  select.disabled = Boolean(own);
  $("org-hint").textContent = own
    ? `Du er admin for ${own.name} og kan kun ændre dens vagter og brugere.`
    : "Du er platform-admin: vælg, hvis vagtplan du vil se og ændre.";
}

function fillStaffedBy() {
  const organisation = currentOrganisation();
  const isNetwork = organisation?.kind === "network";
  $("w-staffed-field").hidden = !isNetwork;
  if (!isNetwork) return;
  const members = state.organisations.filter((o) => o.network?.slug === organisation.slug);
  $("w-staffed").replaceChildren(
    el("option", { text: "Ikke valgt", attrs: { value: "" } }),
    el("option", { text: organisation.name, attrs: { value: organisation.slug } }),
    ...members.map((o) => el("option", { text: o.name, attrs: { value: o.slug } })),
  );
}

async function loadCalendar() {
  try {
    state.calendar = await call(`${API}/shifts?days=14&${orgQuery()}`);
    $("calendar-error").textContent = $("exceptions-error").textContent = "";
  } catch (error) {
    if (!refused(error)) $("calendar-error").textContent = $("exceptions-error").textContent = message(error);
    return;
  }
  renderStatus();
  renderWeekly();
  renderUpcoming();
  renderExceptions();
}

function renderStatus() {
  const status = state.calendar.status;
  const line = $("service-now");
  if (status.shift_open) {
    line.className = "status-line is-open";
    const until = status.current_shift_end_text ? ` til ${status.current_shift_end_text}` : "";
    line.textContent = `Åben nu: ${counsellorWords(status.counsellors_on_shift)} på vagt${until}.`;
  } else {
    line.className = "status-line is-closed";
    line.textContent = status.next_shift_text
      ? `Lukket nu. Næste vagt ${status.next_shift_text}.`
      : "Lukket nu. Der er ingen kommende vagter i planen.";
  }
}

// "Mandag kl. 17-21, bemandes af Åby Kommune" (lower: "mandag …", the name keeps its capital).
function weeklyWords(shift, lower = false) {
  const staffed = shift.staffed_by ? state.organisations.find((o) => o.slug === shift.staffed_by) : null;
  const who = staffed ? `, bemandes af ${staffed.name}` : "";
  const day = lower ? WEEKDAYS[shift.weekday].toLowerCase() : WEEKDAYS[shift.weekday];
  return `${day} ${shiftTimes(shift.starts_at, shift.ends_at)}${who}`;
}

function renderWeekly() {
  const shifts = [...state.calendar.weekly].sort(
    (a, b) => a.weekday - b.weekday || a.starts_at.localeCompare(b.starts_at),
  );
  $("weekly-empty").hidden = shifts.length > 0;
  $("weekly").replaceChildren(
    ...shifts.map((shift) => {
      const words = weeklyWords(shift);
      const edit = el("button", { className: "secondary", text: "Ret", attrs: { type: "button", "aria-label": `Ret ${words}` } });
      const remove = el("button", { className: "secondary", text: "Slet", attrs: { type: "button", "aria-label": `Slet ${words}` } });
      const row = el("li", { className: "row", attrs: { "data-id": String(shift.id) } }, [
        el("div", { className: "row-main" }, [
          el("p", { className: "row-title", text: words }),
          el("p", { className: "row-sub", text: counsellorWords(shift.counsellors) }),
        ]),
        el("div", { className: "row-actions" }, [edit, remove]),
      ]);
      edit.addEventListener("click", () => editWeekly(shift));
      remove.addEventListener("click", () => {
        const { box, yes } = confirmBox(
          `Slet den faste vagt ${weeklyWords(shift, true)}?`,
          "Ja, slet",
          () => deleteWeekly(shift, box),
          () => {
            box.remove();
            remove.focus();
          },
        );
        row.querySelector(".confirm")?.remove();
        row.append(box);
        yes.focus();
      });
      return row;
    }),
  );
}

function renderUpcoming() {
  const windows = state.calendar.upcoming;
  $("upcoming-empty").hidden = windows.length > 0;
  $("upcoming").replaceChildren(
    ...windows.map((w) => el("li", { text: `${w.text} · ${counsellorWords(w.counsellors)}` })),
  );
}

const weeklyErrors = new FormErrors(
  $("weekly-form-error"),
  { weekday: "w-weekday", starts_at: "w-start", ends_at: "w-end", counsellors: "w-counsellors" },
  [
    [/både start- og slut/, "w-start"],
    [/slutte|højst vare/, "w-end"],
    [/rådgivere/, "w-counsellors"],
  ],
);

function editWeekly(shift) {
  state.editingWeekly = shift.id;
  weeklyErrors.clear();
  $("weekly-form-ok").textContent = "";
  $("w-weekday").value = String(shift.weekday);
  $("w-start").value = inputTime(shift.starts_at);
  $("w-end").value = inputTime(shift.ends_at);
  $("w-counsellors").value = String(shift.counsellors);
  if (!$("w-staffed-field").hidden) $("w-staffed").value = shift.staffed_by || "";
  $("weekly-form-heading").textContent = `Ret vagten ${weeklyWords(shift, true)}`;
  $("weekly-submit").textContent = "Gem ændringer";
  $("weekly-cancel").hidden = false;
  $("w-weekday").focus();
}

function resetWeeklyForm() {
  state.editingWeekly = null;
  weeklyErrors.clear();
  $("w-start").value = $("w-end").value = "";
  $("w-counsellors").value = "1";
  $("weekly-form-heading").textContent = "Tilføj en fast vagt";
  $("weekly-submit").textContent = "Tilføj vagt";
  $("weekly-cancel").hidden = true;
}

// Empty fields are refused here in the same words; everything else is the service's to judge.
function required(errors, checks) {
  let first = null;
  for (const [id, text] of checks) {
    if (!$(id).value.trim()) {
      errors.set(id, text);
      first = first || id;
    }
  }
  if (first) $(first).focus();
  return !first;
}

function numberOrText(value) {
  return /^\d+$/.test(value.trim()) ? Number(value) : value;
}

async function saveWeekly(event) {
  event.preventDefault();
  weeklyErrors.clear();
  $("weekly-form-ok").textContent = "";
  const ok = required(weeklyErrors, [
    ["w-start", "Skriv, hvornår vagten starter."],
    ["w-end", "Skriv, hvornår vagten slutter."],
    ["w-counsellors", "Skriv, hvor mange rådgivere der er på vagt."],
  ]);
  if (!ok) return;
  const body = {
    weekday: Number($("w-weekday").value),
    starts_at: $("w-start").value,
    ends_at: $("w-end").value,
    counsellors: numberOrText($("w-counsellors").value),
    staffed_by: $("w-staffed-field").hidden ? null : $("w-staffed").value || null,
  };
  const editing = state.editingWeekly;
  try {
    const saved = await call(editing ? `${API}/shifts/weekly/${editing}` : `${API}/shifts/weekly?${orgQuery()}`, {
      method: editing ? "PUT" : "POST",
      body,
    });
    resetWeeklyForm();
    $("weekly-form-ok").textContent = `${editing ? "Vagten er rettet" : "Vagten er tilføjet"}: ${weeklyWords(saved, true)}.`;
    await loadCalendar();
  } catch (error) {
    if (!refused(error)) weeklyErrors.show(error);
  }
}

async function deleteWeekly(shift, box) {
  try {
    await call(`${API}/shifts/weekly/${shift.id}`, { method: "DELETE" });
    if (state.editingWeekly === shift.id) resetWeeklyForm();
    $("weekly-form-ok").textContent = `Vagten er slettet: ${weeklyWords(shift, true)}.`;
    await loadCalendar();
  } catch (error) {
    if (!refused(error)) box.querySelector("p").textContent = message(error);
  }
}

// -- closed dates and extra shifts ----------------------------------------------------------------

function exceptionWords(item) {
  const what = item.kind === "closed" ? "Lukket" : `Ekstra vagt ${shiftTimes(item.starts_at, item.ends_at)}`;
  return `${longDate(item.on_date)}: ${what}`;
}

function renderExceptions() {
  const items = state.calendar.exceptions;
  $("exceptions-empty").hidden = items.length > 0;
  $("exceptions").replaceChildren(
    ...items.map((item) => {
      const words = exceptionWords(item);
      const details = [item.kind === "extra" ? counsellorWords(item.counsellors) : null, item.note].filter(Boolean);
      const edit = el("button", { className: "secondary", text: "Ret", attrs: { type: "button", "aria-label": `Ret ${words}` } });
      const remove = el("button", { className: "secondary", text: "Slet", attrs: { type: "button", "aria-label": `Slet ${words}` } });
      const row = el("li", { className: `row${item.kind === "closed" ? " is-closed-day" : ""}`, attrs: { "data-id": String(item.id) } }, [
        el("div", { className: "row-main" }, [
          el("p", { className: "row-title", text: words }),
          details.length ? el("p", { className: "row-sub", text: details.join(" · ") }) : null,
        ]),
        el("div", { className: "row-actions" }, [edit, remove]),
      ]);
      edit.addEventListener("click", () => editException(item));
      remove.addEventListener("click", () => {
        const { box, yes } = confirmBox(
          `Slet „${words}“?`,
          "Ja, slet",
          () => deleteException(item, box),
          () => {
            box.remove();
            remove.focus();
          },
        );
        row.querySelector(".confirm")?.remove();
        row.append(box);
        yes.focus();
      });
      return row;
    }),
  );
}

const exceptionErrors = new FormErrors(
  $("exception-form-error"),
  { on_date: "x-date", starts_at: "x-start", ends_at: "x-end", counsellors: "x-counsellors", note: "x-note" },
  [
    [/[Dd]ato/, "x-date"],
    [/både start- og slut/, "x-start"],
    [/slutte|højst vare/, "x-end"],
  ],
);

function exceptionKind() {
  return $("x-kind-extra").checked ? "extra" : "closed";
}

function showKindFields() {
  const extra = exceptionKind() === "extra";
  for (const field of document.querySelectorAll("#exception-form .extra-only")) field.hidden = !extra;
}

function editException(item) {
  state.editingException = item.id;
  exceptionErrors.clear();
  $("exception-form-ok").textContent = "";
  $("x-date").value = item.on_date;
  $(item.kind === "extra" ? "x-kind-extra" : "x-kind-closed").checked = true;
  $("x-start").value = inputTime(item.starts_at);
  $("x-end").value = inputTime(item.ends_at);
  $("x-counsellors").value = String(item.counsellors);
  $("x-note").value = item.note || "";
  showKindFields();
  $("exception-form-heading").textContent = `Ret ${exceptionWords(item)}`;
  $("exception-submit").textContent = "Gem ændringer";
  $("exception-cancel").hidden = false;
  $("x-date").focus();
}

function resetExceptionForm() {
  state.editingException = null;
  exceptionErrors.clear();
  $("x-date").value = $("x-start").value = $("x-end").value = $("x-note").value = "";
  $("x-counsellors").value = "1";
  $("x-kind-closed").checked = true;
  showKindFields();
  $("exception-form-heading").textContent = "Tilføj en lukkedag eller ekstra vagt";
  $("exception-submit").textContent = "Tilføj";
  $("exception-cancel").hidden = true;
}

async function saveException(event) {
  event.preventDefault();
  exceptionErrors.clear();
  $("exception-form-ok").textContent = "";
  const kind = exceptionKind();
  const checks = [["x-date", "Vælg en dato."]];
  if (kind === "extra") {
    checks.push(["x-start", "Skriv, hvornår vagten starter."], ["x-end", "Skriv, hvornår vagten slutter."]);
    checks.push(["x-counsellors", "Skriv, hvor mange rådgivere der er på vagt."]);
  }
  if (!required(exceptionErrors, checks)) return;
  const body = { on_date: $("x-date").value, kind, note: $("x-note").value.trim() || null };
  if (kind === "extra") {
    body.starts_at = $("x-start").value;
    body.ends_at = $("x-end").value;
    body.counsellors = numberOrText($("x-counsellors").value);
  }
  const editing = state.editingException;
  try {
    const saved = await call(editing ? `${API}/shifts/exceptions/${editing}` : `${API}/shifts/exceptions?${orgQuery()}`, {
      method: editing ? "PUT" : "POST",
      body,
    });
    resetExceptionForm();
    $("exception-form-ok").textContent = `${editing ? "Rettet" : "Tilføjet"}: ${exceptionWords(saved)}.`;
    await loadCalendar();
  } catch (error) {
    if (!refused(error)) exceptionErrors.show(error);
  }
}

async function deleteException(item, box) {
  try {
    await call(`${API}/shifts/exceptions/${item.id}`, { method: "DELETE" });
    if (state.editingException === item.id) resetExceptionForm();
    $("exception-form-ok").textContent = `Slettet: ${exceptionWords(item)}.`;
    await loadCalendar();
  } catch (error) {
    if (!refused(error)) box.querySelector("p").textContent = message(error);
  }
}

// -- users ---------------------------------------------------------------------------------------

async function loadUsers() {
  try {
    state.users = await call(`${API}/users`);
    $("users-error").textContent = "";
  } catch (error) {
    if (!refused(error)) $("users-error").textContent = message(error);
    return;
  }
  renderUsers();
  renderAuditUsers();
}

function userSub(user) {
  const created = SHORT_DATE.format(new Date(user.created_at));
  const where = user.organisation ? user.organisation.name : "hele platformen";
  return `${ROLE_NAMES[user.role] || user.role} · ${where} · oprettet ${created}`;
}

function renderUsers() {
  const me = session.me;
  $("users").replaceChildren(
    ...state.users.map((user) => {
      const badges = [
        user.is_active ? el("span", { className: "badge ok", text: "Aktiv" }) : el("span", { className: "badge warn", text: "Deaktiveret" }),
        user.locked ? el("span", { className: "badge warn", text: "Låst efter forkerte forsøg" }) : null,
        me && user.id === me.id ? el("span", { className: "badge", text: "Dig" }) : null,
      ];
      const button = (text, onClick, className = "secondary") => {
        const node = el("button", { className, text, attrs: { type: "button", "aria-label": `${text}: ${user.username}` } });
        node.addEventListener("click", onClick);
        return node;
      };
      const row = el("li", { className: `row${user.is_active ? "" : " is-disabled"}`, attrs: { "data-username": user.username } });
      const error = el("p", { className: "error", attrs: { role: "alert" } });
      const actions = el("div", { className: "row-actions" }, [
        button("Skift rolle", () => openRoleForm(row, user, error)),
        button("Ny adgangskode", () => openPasswordForm(row, user, error)),
        user.is_active
          ? button("Deaktivér", () => {
              const { box, yes } = confirmBox(
                `Deaktivér ${user.username}? Brugeren bliver logget ud med det samme, og samtaler, brugeren har, går tilbage i køen.`,
                "Ja, deaktivér",
                () => changeUser(user, "disable", null, error),
                () => box.remove(),
              );
              closeInline(row);
              row.append(box);
              yes.focus();
            })
          : button("Aktivér", () => changeUser(user, "enable", null, error)),
        user.locked ? button("Lås op", () => changeUser(user, "patch", { unlock: true }, error)) : null,
      ]);
      row.append(
        el("div", { className: "row-main" }, [
          el("p", { className: "row-title" }, [el("span", { text: user.username }), ...badges]),
          el("p", { className: "row-sub", text: userSub(user) }),
        ]),
        actions,
        error,
      );
      return row;
    }),
  );
}

function closeInline(row) {
  for (const node of row.querySelectorAll(".confirm, .inline-form")) node.remove();
}

// A small form under the user's row: one field, Gem, Fortryd; its error right under the field.
function inlineForm(row, { label, field, submitText, onSubmit }) {
  closeInline(row);
  const fieldId = `inline-${Math.random().toString(36).slice(2, 9)}`;
  field.id = fieldId;
  field.setAttribute("aria-describedby", `${fieldId}-error`);
  const fieldError = el("p", { className: "error", attrs: { id: `${fieldId}-error` } });
  const save = el("button", { className: "primary", text: submitText, attrs: { type: "submit" } });
  const cancel = el("button", { className: "secondary", text: "Fortryd", attrs: { type: "button" } });
  const form = el("form", { className: "inline-form form", attrs: { novalidate: "" } }, [
    el("div", { className: "field" }, [el("label", { text: label, attrs: { for: fieldId } }), field, fieldError]),
    el("div", { className: "form-buttons" }, [save, cancel]),
  ]);
  cancel.addEventListener("click", () => form.remove());
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    fieldError.textContent = "";
    field.removeAttribute("aria-invalid");
    const problem = await onSubmit();
    if (problem) {
      fieldError.textContent = danish(problem);
      field.setAttribute("aria-invalid", "true");
      field.focus();
    }
  });
  row.append(form);
  field.focus();
}

function openRoleForm(row, user, error) {
  error.textContent = "";
  const select = el(
    "select",
    {},
    Object.entries(ROLE_NAMES).map(([value, text]) => el("option", { text, attrs: { value } })),
  );
  select.value = user.role;
  inlineForm(row, {
    label: `Ny rolle for ${user.username}`,
    field: select,
    submitText: "Gem rolle",
    onSubmit: () => changeUser(user, "patch", { role: select.value }, null),
  });
}

function openPasswordForm(row, user, error) {
  error.textContent = "";
  const input = el("input", { attrs: { type: "password", autocomplete: "new-password", maxlength: "256" } });
  inlineForm(row, {
    label: `Ny adgangskode til ${user.username} (mindst 12 tegn)`,
    field: input,
    submitText: "Gem adgangskode",
    onSubmit: () =>
      input.value ? changeUser(user, "patch", { password: input.value }, null) : "Skriv en ny adgangskode.",
  });
}

const DONE = {
  disable: (user) => `${user.username} er deaktiveret og kan ikke logge ind.`,
  enable: (user) => `${user.username} er aktiveret igen.`,
  unlock: (user) => `${user.username} er låst op.`,
  role: (user, body) => `${user.username} er nu ${ROLE_WORDS[body.role]}.`,
  password: (user) => `${user.username} har fået en ny adgangskode og er logget ud alle steder.`,
};

// Returns the problem as text (for an inline form), or shows it in `error`; null when done.
async function changeUser(user, how, body, error) {
  if (error) error.textContent = "";
  $("users-ok").textContent = "";
  try {
    if (how === "patch") await call(`${API}/users/${user.id}`, { method: "PATCH", body });
    else await call(`${API}/users/${user.id}/${how}`, { method: "POST" });
  } catch (problem) {
    if (refused(problem)) return null;
    if (error) {
      error.textContent = message(problem);
      return null;
    }
    return message(problem);
  }
  const done = how !== "patch" ? how : body.unlock ? "unlock" : body.role ? "role" : "password";
  $("users-ok").textContent = DONE[done](user, body);
  await loadUsers();
  return null;
}

const userErrors = new FormErrors(
  $("user-form-error"),
  { username: "u-username", password: "u-password", role: "u-role" },
  [[/[Bb]rugernavn/, "u-username"], [/[Aa]dgangskode/, "u-password"]],
);

async function createUser(event) {
  event.preventDefault();
  userErrors.clear();
  $("user-form-ok").textContent = "";
  const ok = required(userErrors, [
    ["u-username", "Skriv et brugernavn."],
    ["u-password", "Skriv en adgangskode."],
  ]);
  if (!ok) return;
  try {
    const user = await call(`${API}/users`, {
      method: "POST",
      body: {
        username: $("u-username").value,
        password: $("u-password").value,
        role: $("u-role").value,
        organisation: state.organisation,
      },
    });
    $("u-username").value = $("u-password").value = "";
    $("u-role").value = "counsellor";
    $("user-form-ok").textContent = `${user.username} er oprettet som ${ROLE_WORDS[user.role]}.`;
    await loadUsers();
  } catch (error) {
    if (!refused(error)) userErrors.show(error);
  }
}

// -- the audit trail ------------------------------------------------------------------------------

function renderAuditUsers() {
  const select = $("a-user");
  const chosen = select.value;
  select.replaceChildren(
    el("option", { text: "Alle brugere", attrs: { value: "" } }),
    ...state.users.map((user) => el("option", { text: user.username, attrs: { value: String(user.id) } })),
  );
  select.value = state.users.some((user) => String(user.id) === chosen) ? chosen : "";
}

function fillActions() {
  $("a-action").append(
    ...Object.entries(ACTION_WORDS).map(([value, text]) => el("option", { text, attrs: { value } })),
  );
}

const auditErrors = new FormErrors($("audit-error"), {});

async function loadAudit(event) {
  if (event) event.preventDefault();
  auditErrors.clear();
  for (const id of ["a-from", "a-to"]) auditErrors.set(id, "");
  const from = $("a-from").value;
  const to = $("a-to").value;
  if (from && to && to < from) {
    auditErrors.set("a-to", "„Til og med dato“ skal ligge på eller efter „Fra dato“.");
    $("a-to").focus();
    return;
  }
  const params = new URLSearchParams({ limit: String(AUDIT_LIMIT) });
  if ($("a-user").value) params.set("user_id", $("a-user").value);
  try {
    state.audit = await call(`${API}/audit?${params}`);
  } catch (error) {
    if (!refused(error)) auditErrors.show(error);
    return;
  }
  // The service filters by user; the action and the dates are filtered here, over the newest 1000.
  const action = $("a-action").value;
  const shown = state.audit.filter((event) => {
    const day = DATE_KEY.format(new Date(event.created_at));
    return (!action || event.action === action) && (!from || day >= from) && (!to || day <= to);
  });
  state.auditShown = shown;
  state.auditVisible = AUDIT_PAGE;
  renderAudit();
}

function usernameOf(id) {
  const user = state.users.find((row) => row.id === id);
  return user ? user.username : `bruger ${id}`;
}

function renderAudit() {
  const all = state.auditShown;
  const events = all.slice(0, state.auditVisible);
  const filtered = $("a-action").value || $("a-user").value || $("a-from").value || $("a-to").value;
  const found = `${all.length} ${all.length === 1 ? "hændelse" : "hændelser"}${filtered ? " efter filteret" : ""}`;
  $("audit-count").textContent =
    all.length === 0
      ? "Ingen hændelser passer til filteret."
      : events.length < all.length
        ? `Viser de nyeste ${events.length} af ${found}.`
        : `Viser ${found}, nyeste først.`;
  $("audit-table").hidden = events.length === 0;
  $("audit-more").hidden = events.length >= all.length;
  $("audit-rows").replaceChildren(
    ...events.map((event) => {
      const about = event.subject_user_id
        ? `Bruger: ${usernameOf(event.subject_user_id)}`
        : event.conversation_id
          ? `Samtale ${event.conversation_id.slice(0, 8)}`
          : "–";
      return el("tr", {}, [
        el("td", { text: moment(event.created_at), attrs: { "data-label": "Tidspunkt" } }),
        el("td", { text: event.username || (event.user_id ? usernameOf(event.user_id) : "Tjenesten selv"), attrs: { "data-label": "Bruger" } }),
        el("td", { text: ACTION_WORDS[event.action] || event.action, attrs: { "data-label": "Handling" } }),
        el("td", { text: about, attrs: { "data-label": "Om" } }),
      ]);
    }),
  );
}

function resetAudit() {
  $("a-action").value = $("a-user").value = $("a-from").value = $("a-to").value = "";
  loadAudit();
}

// -- wiring -----------------------------------------------------------------------------------

$("logout").addEventListener("click", () => logOut(session.token));
$("weekly-form").addEventListener("submit", saveWeekly);
$("weekly-cancel").addEventListener("click", () => {
  resetWeeklyForm();
  $("w-weekday").focus();
});
$("exception-form").addEventListener("submit", saveException);
$("exception-cancel").addEventListener("click", () => {
  resetExceptionForm();
  $("x-date").focus();
});
for (const id of ["x-kind-closed", "x-kind-extra"]) $(id).addEventListener("change", showKindFields);
$("user-form").addEventListener("submit", createUser);
$("audit-form").addEventListener("submit", loadAudit);
$("audit-reset").addEventListener("click", resetAudit);
$("audit-more").addEventListener("click", () => {
  state.auditVisible += AUDIT_PAGE;
  renderAudit();
});
window.addEventListener("hashchange", showSection);
// A field's error goes as soon as the field is changed.
for (const field of document.querySelectorAll("#content input, #content select")) {
  field.addEventListener("input", () => {
    const slot = $(`${field.id}-error`);
    if (slot) slot.textContent = "";
    field.removeAttribute("aria-invalid");
  });
}
fillActions();
showKindFields();

$("org-select").addEventListener("change", () => {
  state.organisation = $("org-select").value;
  fillStaffedBy();
  showSection();
});

if (await session.start()) {
  $("session-tools").hidden = false;
  $("to-dashboard").hidden = false;
  $("content").hidden = false;
  try {
    await loadOrganisations();
  } catch (error) {
    if (!refused(error)) $("calendar-error").textContent = message(error);
  }
  fillStaffedBy();
  showSection();
}
