// The trainer's start page: who is logged in, what is coming, log out. Trainers and admins.
import { logOut, StaffSession } from "/assets/staff.js";

const $ = (id) => document.getElementById(id);

const session = new StaffSession({
  roles: ["trainer", "admin"],
  pageName: "trænersiden",
  gate: {
    section: $("gate"),
    heading: $("gate-heading"),
    text: $("gate-text"),
    link: $("gate-link"),
    content: $("content"),
    tools: $("session-tools"),
    who: $("who"),
  },
});

$("logout").addEventListener("click", () => logOut(session.token));

const me = await session.start();
if (me) {
  $("session-tools").hidden = false;
  $("content").hidden = false;
}
