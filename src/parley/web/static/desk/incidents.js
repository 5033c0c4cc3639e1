// The incidents: the list (panel tab) and one incident (over the map): its evidence, both
// parties' accounts side by side, the hotline thread and the actions the role allows (notify,
// record or send our account, close, reopen, acknowledge the peer's messages). Kept current by
// incident.opened and incident.changed (docs/incidents.md).

import { getJSON, may, post, session } from "./api.js";
import { $, button, el, row, span } from "./dom.js";
import { formatDistance, formatTime } from "./format.js";
import { acknowledge, deadlineElement, findMessage, gist, onHotlineChange, stateLabel } from "./hotline.js";
import { t, tValue } from "./i18n.js";

const CLASSES = ["routine", "serious", "high-risk"];

export const incidents = {
  list: new Map(), // id -> the incident (list --json form)
  openId: null,
  detail: null, // GET /incidents/{id} of the open one
  onShowOnMap: null, // (lon, lat) => void, set by the desk
  // What the officer is typing: the view is drawn again on every live change, the words stay.
  draft: { reason: "", classification: null, text: "", send: true },
};

function clearDraft() {
  incidents.draft = { reason: "", classification: null, text: "", send: true };
}

export async function loadIncidents() {
  if (!may("read-incidents")) return;
  const list = await getJSON("/incidents");
  if (!list) return;
  incidents.list = new Map(list.map((incident) => [incident.id, incident]));
  renderIncidentList();
  if (incidents.openId) await loadDetail();
}

function incidentEvent(payload) {
  incidents.list.set(payload.id, payload);
  renderIncidentList();
  if (payload.id === incidents.openId) loadDetail();
}

export const INCIDENT_EVENTS = {
  "incident.opened": incidentEvent,
  "incident.changed": incidentEvent,
};

// The registry attaches hotline messages when it is read: after the log moved, read it again
// (the answer publishes incident.changed for what moved).
onHotlineChange((reloaded) => {
  if (reloaded) loadIncidents();
  else if (incidents.detail) renderDetail();
});

// ---- the list ----------------------------------------------------------------------------

function newestFirst(a, b) {
  return (b.cpa_time ?? "").localeCompare(a.cpa_time ?? "") || b.id.localeCompare(a.id);
}

export function renderIncidentList() {
  const items = [...incidents.list.values()].sort(newestFirst);
  $("#incidents-empty").hidden = items.length > 0;
  $("#incident-list").replaceChildren(...items.map(incidentItem));
  const waiting = items.filter((i) => i.state === "detected").length;
  $("#tab-count-incidents").textContent = waiting ? String(waiting) : "";
}

function incidentItem(incident) {
  const li = el("li", { data: { id: incident.id, severity: incident.severity, state: incident.state } });
  li.classList.toggle("selected", incident.id === incidents.openId);
  li.append(
    row("head", [span("what", tValue("severity", incident.severity)), span("state", tValue("incstate", incident.state))]),
    row("pair", [span("", `${incident.our_track} ↔ ${incident.their_track}${incident.kind ? ` · ${tValue("kind", incident.kind)}` : ""}`)]),
    row("detail", [span("", t("detail.min", { distance: formatDistance(incident.min_slant_m), time: formatTime(incident.cpa_time) }))]),
    row("when", [span("", incident.id)]),
  );
  li.addEventListener("click", () => openIncident(incident.id));
  return li;
}

// ---- one incident ------------------------------------------------------------------------

export async function openIncident(id) {
  if (id !== incidents.openId) clearDraft();
  incidents.openId = id;
  $("#incident").hidden = false;
  renderIncidentList();
  await loadDetail();
  const incident = incidents.detail?.incident;
  if (incident?.lon !== null && incident?.lat !== null && incidents.onShowOnMap) {
    incidents.onShowOnMap(incident.lon, incident.lat);
  }
}

export function resetIncidents() {
  incidents.list.clear();
  closeIncidentView();
}

export function closeIncidentView() {
  incidents.openId = null;
  incidents.detail = null;
  $("#incident").hidden = true;
  renderIncidentList();
}

async function loadDetail() {
  const id = incidents.openId;
  const detail = await getJSON(`/incidents/${encodeURIComponent(id)}`);
  if (id !== incidents.openId) return;
  incidents.detail = detail;
  renderDetail();
}

export function renderDetail() {
  const detail = incidents.detail;
  const body = $("#incident-body");
  const focused = body.contains(document.activeElement) ? document.activeElement.name : null;
  if (!detail) {
    body.replaceChildren(el("p", { className: "muted", text: t("incident.unavailable") }));
    return;
  }
  const incident = detail.incident;
  $("#incident").dataset.state = incident.state;
  $("#incident").dataset.severity = incident.severity;
  body.replaceChildren(
    el("h2", { children: [span("", t("incident.title", { id: incident.id })), span("badge", tValue("incstate", incident.state))] }),
    evidenceBlock(incident, detail.evidence),
    accountsBlock(detail.accounts),
    threadBlock(detail.messages),
    actionsBlock(incident),
  );
  if (focused) body.querySelector(`[name="${focused}"]`)?.focus();
}

function fact(label, value) {
  return el("div", { className: "fact", children: [span("label", label), span("value", value)] });
}

function evidenceBlock(incident, evidence) {
  const encounters = evidence?.encounters ?? [];
  const deciding = encounters.find((e) => e.cpa_time === incident.cpa_time) ?? encounters[0];
  const facts = [
    fact(t("incident.class"), tValue("severity", incident.severity)),
    fact(t("incident.pair"), `${incident.our_track} ↔ ${incident.their_track}`),
    fact(t("incident.cpa"), formatDistance(incident.min_slant_m)),
    fact(t("incident.time"), formatTime(incident.cpa_time)),
    fact(t("incident.span"), `${formatTime(incident.start)} – ${formatTime(incident.end)}`),
    fact(t("incident.position"), incident.lat === null ? "–" : `${incident.lat.toFixed(4)}° N ${incident.lon.toFixed(4)}° E`),
    fact(t("incident.encounters"), String(encounters.length || incident.encounter_ids.length)),
  ];
  if (deciding) {
    facts.push(fact(t("incident.horizontal"), formatDistance(deciding.min_horizontal_m ?? null)));
    facts.push(fact(t("incident.vertical"), formatDistance(deciding.vertical_m ?? null)));
    if (deciding.reasons?.length) facts.push(fact(t("incident.reasons"), deciding.reasons.join(", ")));
  }
  const section = el("section", { className: "evidence", children: [el("h3", { text: t("incident.evidence") }), ...facts] });
  if (incident.lat !== null && incidents.onShowOnMap) {
    section.append(button(t("incident.show-on-map"), () => incidents.onShowOnMap(incident.lon, incident.lat)));
  }
  return section;
}

function accountColumn(side, account) {
  const code = side === "ours" ? session.config.party : session.config.peer_party;
  const party = code ? tValue("side", code) : t("incident.other-party");
  const column = el("div", { className: "account", data: { side } });
  column.append(el("h4", { text: t(side === "ours" ? "incident.our-account" : "incident.their-account", { party }) }));
  if (!account) {
    column.append(el("p", { className: "muted", text: t("incident.no-account") }));
    return column;
  }
  column.dataset.severity = account.classification;
  column.append(
    el("div", { className: "class", text: tValue("severity", account.classification) }),
    el("p", { className: "text", text: account.text }),
  );
  if (account.nature) column.append(el("div", { className: "muted", text: tValue("nature", account.nature) }));
  column.append(el("div", { className: "muted", text: t("incident.recorded", { who: account.recorded_by, time: formatTime(account.recorded_at) }) }));
  return column;
}

function accountsBlock(accounts) {
  const agree = accounts?.agree;
  const verdict = agree === null || agree === undefined ? "" : t(agree ? "incident.agree" : "incident.disagree");
  return el("section", {
    className: "accounts",
    children: [
      el("h3", { text: t("incident.accounts") }),
      el("div", { className: "side-by-side", children: [accountColumn("ours", accounts?.ours), accountColumn("theirs", accounts?.theirs)] }),
      ...(verdict ? [el("p", { className: "verdict", text: verdict, data: { agree: String(agree) } })] : []),
    ],
  });
}

function threadItem(message) {
  const log = message.direction === "sent" ? "own" : "peer";
  const full = findMessage(message.msg_id);
  const state = full?.state ?? null;
  const li = el("li", { data: { msgId: message.msg_id, direction: message.direction, role: message.role, state } });
  li.append(
    row("head", [
      span("what", `${message.direction === "sent" ? "→" : "←"} ${tValue("msgrole", message.role)}`),
      span("state", full ? stateLabel(full) : ""),
    ]),
    row("when", [span("", `${tValue("direction", message.direction)} · ${formatTime(message.time)}`)]),
  );
  const text = gist(message);
  if (text) li.append(row("gist", [span("", text)]));
  const countdown = full ? deadlineElement(full, log) : null;
  if (countdown) li.append(countdown);
  if (log === "peer" && countdown && may("ack")) {
    li.append(button(t("hotline.ack"), () => acknowledge(message.msg_id), { action: "ack" }));
  }
  return li;
}

function threadBlock(messages) {
  const items = (messages ?? []).map(threadItem);
  return el("section", {
    className: "thread",
    children: [
      el("h3", { text: t("incident.thread") }),
      items.length ? el("ol", { className: "messages", children: items }) : el("p", { className: "muted", text: t("incident.no-messages") }),
    ],
  });
}

// ---- actions -----------------------------------------------------------------------------

async function act(path, body) {
  const answer = await post(`/incidents/${encodeURIComponent(incidents.openId)}${path}`, body);
  const line = $("#incident-error");
  line.hidden = answer.ok;
  line.textContent = answer.ok ? "" : t("incident.refused", { reason: answer.body ?? t("error.unreachable") });
  if (answer.ok) await loadIncidents();
  return answer.ok;
}

function accountForm(incident) {
  const form = el("form", { className: "account-form" });
  const draft = incidents.draft;
  const select = el("select", { children: CLASSES.map((c) => el("option", { text: tValue("severity", c) })) });
  select.name = "classification";
  CLASSES.forEach((c, i) => (select.options[i].value = c));
  select.value = draft.classification ?? incident.severity ?? "serious";
  select.addEventListener("change", () => (draft.classification = select.value));
  const text = el("textarea");
  text.name = "text";
  text.rows = 3;
  text.required = true;
  text.placeholder = t("incident.account-placeholder");
  text.value = draft.text;
  text.addEventListener("input", () => (draft.text = text.value));
  const send = el("input");
  send.type = "checkbox";
  send.name = "send";
  send.checked = draft.send;
  send.addEventListener("change", () => (draft.send = send.checked));
  const submit = el("button", { text: t("incident.record") });
  submit.type = "submit";
  form.append(
    el("label", { children: [span("", t("incident.class")), select] }),
    text,
    el("label", { className: "inline", children: [send, span("", t("incident.send-too"))] }),
    submit,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = { classification: select.value, text: text.value, send: send.checked };
    const previous = { ...draft };
    draft.text = "";
    if (!(await act("/account", body))) {
      Object.assign(incidents.draft, previous);
      renderDetail();
    }
  });
  return form;
}

function actionsBlock(incident) {
  const section = el("section", { className: "actions", children: [el("h3", { text: t("incident.actions") })] });
  if (!may("manage-incidents")) {
    section.append(el("p", { className: "muted", text: t("incident.read-only") }));
    return section;
  }
  const buttons = el("div", { className: "buttons" });
  if (incident.state === "detected") {
    buttons.append(button(t("incident.notify"), () => act("/notify", {}), { action: "notify" }));
  }
  if (incident.state === "closed") {
    buttons.append(button(t("incident.reopen"), () => act("/reopen", {}), { action: "reopen" }));
  } else {
    buttons.append(button(t("incident.close"), () => {
      const reason = incidents.draft.reason;
      incidents.draft.reason = "";
      act("/close", reason ? { reason } : {});
    }, { action: "close" }));
    const reason = el("input");
    reason.id = "incident-close-reason";
    reason.name = "reason";
    reason.placeholder = t("incident.close-reason");
    reason.value = incidents.draft.reason;
    reason.addEventListener("input", () => (incidents.draft.reason = reason.value));
    buttons.append(reason);
  }
  section.append(buttons);
  if (incident.state !== "closed") section.append(accountForm(incident));
  return section;
}
