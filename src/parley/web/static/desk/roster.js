// The roster: who is on duty now and in the next shift, and the roster's gaps and problems in
// the coming day, from the node's roster.toml (GET /api/v1/roster; docs/hotline.md). Read again
// every minute, so a shift change shows without a reload.

import { api, may } from "./api.js";
import { $, el, row, span } from "./dom.js";
import { formatDateTime } from "./format.js";
import { t, tValue } from "./i18n.js";

const REFRESH_MS = 60_000;

export const roster = {
  data: null, // the route's answer
  error: null, // the refusal's detail, when the roster cannot be read
  timer: null,
};

export async function loadRoster() {
  if (!may("read-log")) return;
  clearTimeout(roster.timer);
  roster.timer = setTimeout(loadRoster, REFRESH_MS);
  const response = await api("/roster").catch(() => null);
  if (!response) {
    roster.error = t("error.unreachable");
  } else if (!response.ok) {
    roster.error = (await response.json().catch(() => ({}))).detail ?? response.statusText;
  } else {
    roster.data = await response.json();
    roster.error = null;
  }
  renderRoster();
}

export function resetRoster() {
  clearTimeout(roster.timer);
  Object.assign(roster, { data: null, error: null, timer: null });
  renderRoster();
}

function officerItem(officer) {
  const languages = officer.languages.map((code) => code.toUpperCase()).join(" ");
  return el("li", {
    data: { role: officer.role },
    children: [span("name", officer.name), span("role", tValue("role", officer.role)), span("languages", languages)],
  });
}

function shiftBlock(shift, which) {
  return el("div", {
    className: "shift",
    data: { shift: shift.name, which },
    children: [
      row("head", [
        span("what", t("roster.shift", { name: shift.name })),
        span("when", `${formatDateTime(shift.start)} – ${formatDateTime(shift.end)}`),
      ]),
      shift.officers.length
        ? el("ul", { className: "officers", children: shift.officers.map(officerItem) })
        : el("p", { className: "muted", text: t("roster.no-officers") }),
    ],
  });
}

function section(title, shifts, which, empty) {
  return el("section", {
    className: "roster-part",
    data: { part: which },
    children: [
      el("h3", { text: title }),
      ...(shifts.length ? shifts.map((shift) => shiftBlock(shift, which)) : [el("p", { className: "muted", text: empty })]),
    ],
  });
}

export function renderRoster() {
  const body = $("#roster-body");
  if (!body) return;
  if (roster.error) {
    body.replaceChildren(el("p", { className: "error", text: t("roster.unreadable", { reason: roster.error }) }));
    return;
  }
  const data = roster.data;
  if (!data) {
    body.replaceChildren();
    return;
  }
  if (!data.configured) {
    body.replaceChildren(el("p", { className: "muted", text: t("roster.none") }));
    return;
  }
  const parts = [
    section(t("roster.now"), data.now, "now", t("roster.nobody")),
    section(t("roster.next"), data.next, "next", t("roster.nothing-next")),
  ];
  if (data.problems.length) {
    parts.push(el("section", {
      className: "roster-part",
      data: { part: "problems" },
      children: [
        el("h3", { text: t("roster.problems") }),
        el("ul", {
          className: "problems",
          children: data.problems.map((p) => el("li", { data: { kind: p.kind }, text: problemText(p) })),
        }),
      ],
    }));
  }
  body.replaceChildren(...parts);
}

function problemText(problem) {
  const times = { start: formatDateTime(problem.start), end: formatDateTime(problem.end) };
  return t(`roster.problem.${problem.kind}`, times);
}
