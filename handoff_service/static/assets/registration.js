// The counsellor's anonymous registration of a closed conversation (issue #17): topics (1-5),
// age band, gender and referral, all fixed codes from GET /api/v1/registration-options, saved
// with PUT /api/v1/conversations/{id}/registration. No text and no names: only numbers for the
// statistics. Shown when the counsellor closes the conversation; "Senere" folds it to one line
// with a button, and the closed conversation (from "Mine samtaler" or reopened) can be
// registered later the same way. Only the counsellor who held it, or an admin.
import { ApiError, el } from "/assets/common.js";

const API = "/api/v1";
const MAX_TOPICS = 5;
const $ = (id) => document.getElementById(id);

export function initRegistration({ authed, me }) {
  const ui = {
    section: $("registration"),
    heading: $("registration-heading"),
    laterRow: $("registration-later-row"),
    line: $("registration-line"),
    open: $("registration-open"),
    form: $("registration-form"),
    topics: $("reg-topic-choices"),
    topicsError: $("reg-topics-error"),
    age: $("reg-age"),
    gender: $("reg-gender"),
    referral: $("reg-referral"),
    error: $("registration-error"),
    ok: $("registration-ok"),
    save: $("registration-save"),
    skip: $("registration-skip"),
  };
  const state = {
    options: null,
    conversationId: null,
    saved: null, // the registration as the service has it, or null
    later: new Set(), // conversations the counsellor chose "Senere" for (this tab)
    loading: null,
  };

  async function loadOptions() {
    if (state.options) return state.options;
    const options = await authed(`${API}/registration-options`);
    state.options = options;
    ui.topics.replaceChildren(
      ...options.topics.map((topic) =>
        el("label", { className: "reg-choice" }, [
          el("input", { attrs: { type: "checkbox", name: "reg-topic", value: topic.value } }),
          ` ${topic.label}`,
        ]),
      ),
    );
    const fill = (select, items) =>
      select.replaceChildren(
        el("option", { text: "Vælg …", attrs: { value: "" } }),
        ...items.map((item) => el("option", { text: item.label, attrs: { value: item.value } })),
      );
    fill(ui.age, options.age_bands);
    fill(ui.gender, options.genders);
    fill(ui.referral, options.referrals);
    return options;
  }

  function mayRegister(view) {
    const user = me();
    return Boolean(user && view.status === "closed" && (user.role === "admin" || view.counsellor_id === user.id));
  }

  function labelOf(items, value) {
    const item = (items || []).find((option) => option.value === value);
    return item ? item.label : null;
  }

  function savedLine() {
    const saved = state.saved;
    const options = state.options;
    if (!saved || !options) return "Samtalen er ikke registreret endnu.";
    const topics = (saved.topics || []).map((value) => labelOf(options.topics, value) || value);
    const parts = [
      topics.length ? `Emner: ${topics.join(", ")}` : null,
      labelOf(options.age_bands, saved.age_band),
      labelOf(options.genders, saved.gender),
      labelOf(options.referrals, saved.referral),
    ].filter(Boolean);
    return `Registreret: ${parts.join(" · ")}.`;
  }

  function fillForm() {
    const saved = state.saved || {};
    for (const box of ui.topics.querySelectorAll("input")) box.checked = (saved.topics || []).includes(box.value);
    ui.age.value = saved.age_band || "";
    ui.gender.value = saved.gender || "";
    ui.referral.value = saved.referral || "";
    ui.save.textContent = state.saved ? "Gem ændringer" : "Gem registrering";
    limitTopics();
  }

  function fieldError(select, text) {
    $(`${select.id}-error`).textContent = text;
    if (text) select.setAttribute("aria-invalid", "true");
    else select.removeAttribute("aria-invalid");
  }

  // Five topics at most: the rest are disabled until one is unticked.
  function limitTopics() {
    const boxes = [...ui.topics.querySelectorAll("input")];
    const ticked = boxes.filter((box) => box.checked).length;
    for (const box of boxes) box.disabled = !box.checked && ticked >= MAX_TOPICS;
    if (ticked) ui.topicsError.textContent = "";
  }

  function showForm(open) {
    ui.form.hidden = !open;
    ui.laterRow.hidden = open;
    ui.line.textContent = savedLine();
    ui.open.textContent = state.saved ? "Ret registrering" : "Udfyld registrering";
  }

  function hide() {
    ui.section.hidden = true;
    state.conversationId = null;
  }

  // Every time the open conversation is shown or changes status.
  async function conversationShown(view, { justClosed = false } = {}) {
    if (!view || !mayRegister(view)) {
      hide();
      return;
    }
    const fresh = state.conversationId !== view.id;
    if (!fresh && !justClosed) return;
    state.conversationId = view.id;
    ui.error.textContent = ui.ok.textContent = ui.topicsError.textContent = "";
    for (const select of [ui.age, ui.gender, ui.referral]) fieldError(select, "");
    const id = view.id;
    try {
      await loadOptions();
      const saved = await authed(`${API}/conversations/${encodeURIComponent(id)}/registration`);
      if (state.conversationId !== id) return;
      state.saved = saved || null;
    } catch (error) {
      if (state.conversationId !== id) return;
      if (error instanceof ApiError && (error.status === 403 || error.status === 404)) {
        hide();
        return;
      }
      state.saved = null;
      ui.error.textContent = error instanceof ApiError ? error.message : "Registreringen kunne ikke hentes.";
    }
    ui.section.hidden = false;
    fillForm();
    const open = justClosed || (!state.saved && !state.later.has(id));
    showForm(open);
    if (justClosed) ui.heading.focus();
  }

  async function save(event) {
    event.preventDefault();
    ui.error.textContent = ui.ok.textContent = ui.topicsError.textContent = "";
    const topics = [...ui.topics.querySelectorAll("input:checked")].map((box) => box.value);
    if (topics.length < 1 || topics.length > MAX_TOPICS) {
      ui.topicsError.textContent = "Vælg mellem 1 og 5 emner.";
      const first = ui.topics.querySelector("input:not(:disabled)");
      if (first) first.focus();
      return;
    }
    let missing = null;
    for (const [select, text] of [
      [ui.age, "Vælg en alder – eller „Ved ikke“."],
      [ui.gender, "Vælg et køn – eller „Ved ikke“."],
      [ui.referral, "Vælg, om den unge blev henvist videre."],
    ]) {
      fieldError(select, select.value ? "" : text);
      if (!select.value && !missing) missing = select;
    }
    if (missing) {
      missing.focus();
      return;
    }
    const id = state.conversationId;
    const body = { topics, age_band: ui.age.value, gender: ui.gender.value, referral: ui.referral.value };
    ui.save.disabled = true;
    try {
      state.saved = await authed(`${API}/conversations/${encodeURIComponent(id)}/registration`, { method: "PUT", body });
      state.later.delete(id);
      fillForm();
      showForm(false);
      ui.ok.textContent = "Registreringen er gemt.";
      ui.open.focus();
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 401) {
        ui.error.textContent = error instanceof ApiError ? error.message : "Registreringen blev ikke gemt. Prøv igen.";
      }
    } finally {
      ui.save.disabled = false;
    }
  }

  ui.form.addEventListener("submit", save);
  ui.topics.addEventListener("change", limitTopics);
  for (const select of [ui.age, ui.gender, ui.referral]) select.addEventListener("change", () => fieldError(select, ""));
  ui.skip.addEventListener("click", () => {
    if (state.conversationId) state.later.add(state.conversationId);
    ui.error.textContent = "";
    showForm(false);
    ui.open.focus();
  });
  ui.open.addEventListener("click", () => {
    ui.ok.textContent = "";
    showForm(true);
    const first = ui.topics.querySelector("input");
    if (first) first.focus();
  });

  return { conversationShown };
}
