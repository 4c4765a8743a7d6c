// The shift's tools in the counsellor's conversation view (issue #13, part 4;
// handoff_service/shift_tools.py): approved canned replies, internal notes, handing the
// conversation to a colleague and the reason for putting it back in the queue.
// Everything from the API is set as text (el() in common.js); a canned reply only fills the reply
// box, it is never sent until the counsellor presses send.
import { ApiError, clockTime, el } from "/assets/common.js";

const API = "/api/v1";
const $ = (id) => document.getElementById(id);

export function initShiftTools({ authed, replyText, me, openConversation, showConversation, onMineChanged, alert }) {
  const ui = {
    canned: $("canned"),
    notes: $("notes-list"),
    notesEmpty: $("notes-empty"),
    noteForm: $("note-form"),
    noteText: $("note-text"),
    noteSave: $("note-save"),
    noteError: $("note-error"),
    transferTo: $("transfer-to"),
    transfer: $("transfer"),
    transferError: $("transfer-error"),
    releaseReason: $("release-reason"),
  };
  const state = { loaded: false, conversationId: null, owned: false };

  async function loadOnce() {
    if (state.loaded) return;
    state.loaded = true;
    try {
      const [replies, reasons] = await Promise.all([
        authed(`${API}/counsellor/canned-replies`),
        authed(`${API}/counsellor/release-reasons`),
      ]);
      renderCanned(replies);
      ui.releaseReason.replaceChildren(
        el("option", { text: "Vælg en grund (valgfri)", attrs: { value: "" } }),
        ...reasons.map((reason) => el("option", { text: reason.label, attrs: { value: reason.code } })),
      );
    } catch (error) {
      state.loaded = false; // try again next time a conversation is opened
    }
  }

  function renderCanned(replies) {
    state.replies = new Map(replies.map((reply) => [reply.id, reply]));
    const groups = new Map();
    for (const reply of replies) {
      if (!groups.has(reply.theme)) groups.set(reply.theme, el("optgroup", { attrs: { label: reply.theme_title } }));
      groups.get(reply.theme).append(el("option", { text: reply.title, attrs: { value: reply.id } }));
    }
    ui.canned.replaceChildren(
      el("option", { text: "Vælg en godkendt tekst …", attrs: { value: "" } }),
      ...groups.values(),
    );
  }

  // Choosing fills the reply box (after a draft, on a new paragraph); nothing is sent.
  ui.canned.addEventListener("change", () => {
    const reply = state.replies && state.replies.get(ui.canned.value);
    ui.canned.value = "";
    if (!reply) return;
    const draft = replyText.value.trim();
    replyText.value = draft ? `${draft}\n\n${reply.text}` : reply.text;
    replyText.dispatchEvent(new Event("input"));
    replyText.focus();
    replyText.setSelectionRange(replyText.value.length, replyText.value.length);
  });

  async function loadColleagues() {
    try {
      const colleagues = await authed(`${API}/counsellor/colleagues`);
      ui.transferTo.replaceChildren(
        el("option", { text: colleagues.length ? "Vælg en kollega" : "Ingen kolleger at give til", attrs: { value: "" } }),
        ...colleagues.map((c) => el("option", { text: c.username, attrs: { value: String(c.id) } })),
      );
    } catch (error) {
      if (error instanceof ApiError && error.status !== 401) ui.transferError.textContent = error.message;
    }
  }

  function renderNotes(notes) {
    ui.notes.replaceChildren(
      ...notes.map((note) =>
        el("li", { className: "note-item" }, [
          el("p", { className: "note-meta", text: `${note.username || "Tidligere bruger"} · ${clockTime(note.created_at)}` }),
          el("p", { className: "note-text", text: note.text }),
        ]),
      ),
    );
    ui.notesEmpty.hidden = notes.length > 0;
  }

  async function loadNotes(id) {
    ui.noteError.textContent = "";
    if (!state.owned) {
      ui.notes.replaceChildren();
      ui.notesEmpty.hidden = false;
      ui.notesEmpty.textContent = "Noterne kan kun læses af den rådgiver, der har samtalen lige nu.";
      return;
    }
    ui.notesEmpty.textContent = "Ingen noter endnu.";
    try {
      const notes = await authed(`${API}/counsellor/conversations/${encodeURIComponent(id)}/notes`);
      if (state.conversationId === id) renderNotes(notes);
    } catch (error) {
      if (error instanceof ApiError && error.status !== 401) ui.noteError.textContent = error.message;
    }
  }

  ui.noteForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const id = state.conversationId;
    const text = ui.noteText.value;
    ui.noteError.textContent = "";
    if (!text.trim()) {
      ui.noteError.textContent = "Skriv noten først.";
      ui.noteText.focus();
      return;
    }
    ui.noteSave.disabled = true;
    try {
      await authed(`${API}/counsellor/conversations/${encodeURIComponent(id)}/notes`, { method: "POST", body: { text } });
      ui.noteText.value = "";
      await loadNotes(id);
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 401) {
        ui.noteError.textContent = `Noten blev ikke gemt: ${error instanceof ApiError ? error.message : "ukendt fejl"}`;
      }
    } finally {
      ui.noteSave.disabled = !state.owned;
    }
  });

  ui.transfer.addEventListener("click", async () => {
    const id = state.conversationId;
    const to = Number(ui.transferTo.value);
    ui.transferError.textContent = "";
    if (!to) {
      ui.transferError.textContent = "Vælg den kollega, der skal have samtalen.";
      ui.transferTo.focus();
      return;
    }
    const name = ui.transferTo.selectedOptions[0].textContent;
    ui.transfer.disabled = true;
    try {
      const view = await authed(`${API}/counsellor/conversations/${encodeURIComponent(id)}/transfer`, {
        method: "POST",
        body: { to_user_id: to },
      });
      sessionStorage.removeItem("counsellor.open");
      showConversation(view);
      $("conv-state").textContent = `Samtalen er givet videre til ${name}. Den unge har fået besked om, at en anden rådgiver tager over.`;
      onMineChanged();
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 401) {
        ui.transferError.textContent = error instanceof ApiError ? error.message : "Samtalen blev ikke givet videre.";
      }
      ui.transfer.disabled = !state.owned;
    }
  });

  return {
    // The conversation view shows a (new or re-read) conversation.
    conversationShown(view, switching) {
      const owned = view.status === "active" && Boolean(me()) && view.counsellor_id === me().id;
      const changed = switching || owned !== state.owned;
      state.conversationId = view.id;
      state.owned = owned;
      for (const control of [ui.canned, ui.noteText, ui.noteSave, ui.transferTo, ui.transfer, ui.releaseReason]) {
        control.disabled = !owned;
      }
      if (switching) {
        ui.noteText.value = "";
        ui.transferError.textContent = "";
        if (ui.releaseReason.options.length) ui.releaseReason.value = "";
      }
      loadOnce();
      if (changed) {
        loadNotes(view.id);
        if (owned) loadColleagues();
      }
    },
    // The body of "Sæt tilbage i køen": the chosen reason code, or none.
    releaseBody() {
      return ui.releaseReason.value ? { reason: ui.releaseReason.value } : undefined;
    },
    // The dashboard feed says a conversation changed hands (ids only).
    transferred(data) {
      onMineChanged();
      if (me() && data.counsellor_id === me().id) {
        alert("En kollega har givet dig en samtale. Den står under „Mine samtaler“.");
        if (state.conversationId === data.conversation_id) openConversation(data.conversation_id);
      }
    },
  };
}

// -- "Henvis til kommune" (issue #16): refer a waiting or the counsellor's own active
// conversation to another organisation's queue, with a reason; the transcript, the triage and
// the young person's place in the order go with it (POST …/refer). One panel per place it is
// used (a queue row, the conversation view); `onReferred(result, text)` gets the service's
// answer and the Danish confirmation.

// "Åby Kommune – åben nu", "Bakkeby Kommune – lukket, åbner i morgen kl. 16".
export function targetWords(target) {
  if (target.open_now) return `${target.name} – åben nu`;
  return target.next_opening_text ? `${target.name} – lukket, åbner ${target.next_opening_text}` : `${target.name} – lukket`;
}

export function referredWords(result) {
  const name = result.organisation.name;
  const place = result.queue && result.queue.position ? ` Den unge er nummer ${result.queue.position} i køen dér` : " Den unge venter nu dér";
  return `Samtalen er henvist til ${name}.${place} og har fået besked om, hvor samtalen er sendt hen.`;
}

export function createReferral({ authed, idPrefix, onReferred, onCancel }) {
  const id = (name) => `${idPrefix}-${name}`;
  const to = el("select", { attrs: { id: id("to"), "aria-describedby": id("hint") } });
  const reason = el("select", { attrs: { id: id("reason") } });
  const error = el("p", { className: "error", attrs: { id: id("error"), role: "alert" } });
  const send = el("button", { className: "primary", text: "Henvis", attrs: { type: "button" } });
  const cancel = el("button", { className: "secondary", text: "Fortryd", attrs: { type: "button" } });
  const confirmText = el("p", { attrs: { id: id("confirm-text") } });
  const yes = el("button", { className: "primary", text: "Ja, henvis", attrs: { type: "button", "aria-describedby": id("confirm-text") } });
  const back = el("button", { className: "secondary", text: "Tilbage", attrs: { type: "button" } });
  const steps = el("div", { className: "refer-buttons" }, [send, cancel]);
  const confirm = el("div", { className: "refer-confirm" }, [confirmText, el("div", { className: "refer-buttons" }, [yes, back])]);
  confirm.hidden = true;
  const node = el("div", { className: "refer-panel", attrs: { id: id("panel"), role: "group", "aria-labelledby": id("heading") } }, [
    el("p", { className: "refer-heading", text: "Henvis til kommune", attrs: { id: id("heading") } }),
    el("div", { className: "refer-field" }, [el("label", { text: "Kommune eller tilbud", attrs: { for: id("to") } }), to]),
    el("div", { className: "refer-field" }, [el("label", { text: "Grund", attrs: { for: id("reason") } }), reason]),
    el("p", {
      className: "hint",
      attrs: { id: id("hint") },
      text: "Samtalen, chatbottens vurdering og den unges plads i rækkefølgen følger med. Den unge får besked om, hvor samtalen er sendt hen.",
    }),
    error,
    steps,
    confirm,
  ]);
  node.hidden = true;
  const state = { conversationId: null, targets: [] };

  function reset() {
    error.textContent = "";
    confirm.hidden = true;
    steps.hidden = false;
    send.disabled = yes.disabled = false;
  }

  async function open(conversation) {
    state.conversationId = conversation.id;
    reset();
    node.hidden = false;
    to.replaceChildren(el("option", { text: "Henter kommuner …", attrs: { value: "" } }));
    reason.replaceChildren(el("option", { text: "Vælg en grund", attrs: { value: "" } }));
    to.focus();
    try {
      // Fresh every time: "åben nu" changes with the clock.
      const targets = await authed(`${API}/counsellor/referral-targets`);
      if (state.conversationId !== conversation.id) return;
      const current = conversation.queue && conversation.queue.slug;
      state.targets = targets.filter((target) => target.slug !== current);
      const group = (label, items) =>
        items.length
          ? el("optgroup", { attrs: { label } }, items.map((t) => el("option", { text: targetWords(t), attrs: { value: t.slug } })))
          : null;
      to.replaceChildren(
        el("option", { text: state.targets.length ? "Vælg hvor samtalen skal hen" : "Ingen andre køer at henvise til", attrs: { value: "" } }),
        ...[
          group("Kommuner", state.targets.filter((t) => t.kind === "municipality")),
          group("Netværk og andre tilbud", state.targets.filter((t) => t.kind !== "municipality")),
        ].filter(Boolean),
      );
      const reasons = (targets[0] && targets[0].reasons) || [];
      reason.replaceChildren(
        el("option", { text: "Vælg en grund", attrs: { value: "" } }),
        ...reasons.map((r) => el("option", { text: r.label, attrs: { value: r.code } })),
      );
    } catch (failure) {
      if (!(failure instanceof ApiError) || failure.status !== 401) {
        error.textContent = `Listen kunne ikke hentes: ${failure instanceof ApiError ? failure.message : "ukendt fejl"}`;
      }
    }
  }

  function close() {
    state.conversationId = null;
    node.hidden = true;
    reset();
  }

  to.addEventListener("change", reset);
  reason.addEventListener("change", reset);
  send.addEventListener("click", () => {
    error.textContent = "";
    const target = state.targets.find((t) => t.slug === to.value);
    if (!target) {
      error.textContent = "Vælg den kommune eller det tilbud, samtalen skal henvises til.";
      to.focus();
      return;
    }
    if (!reason.value) {
      error.textContent = "Vælg en grund til henvisningen.";
      reason.focus();
      return;
    }
    confirmText.textContent = `Henvis samtalen til ${target.name}? Grund: ${reason.selectedOptions[0].textContent}.`;
    steps.hidden = true;
    confirm.hidden = false;
    yes.focus();
  });
  back.addEventListener("click", () => {
    reset();
    send.focus();
  });
  cancel.addEventListener("click", () => {
    const conversationId = state.conversationId;
    close();
    if (onCancel) onCancel(conversationId);
  });
  yes.addEventListener("click", async () => {
    const conversationId = state.conversationId;
    yes.disabled = true;
    error.textContent = "";
    try {
      const result = await authed(`${API}/counsellor/conversations/${encodeURIComponent(conversationId)}/refer`, {
        method: "POST",
        body: { organisation: to.value, reason: reason.value },
      });
      close();
      onReferred(result, referredWords(result));
    } catch (failure) {
      yes.disabled = false;
      if (!(failure instanceof ApiError) || failure.status !== 401) {
        error.textContent = `Samtalen blev ikke henvist: ${failure instanceof ApiError ? failure.message : "ukendt fejl"}`;
      }
    }
  });

  return {
    node,
    open,
    close,
    openFor: () => state.conversationId,
  };
}
