// The incidents: the list (panel tab) and one incident (over the map): its evidence, both
// parties' accounts side by side, the hotline thread and the actions the role allows (notify,
// record or send our account, close, reopen, acknowledge the peer's messages, ask for
// clarification, reply to a message of the peer from a template of the catalogue). Kept current by
// incident.opened and incident.changed (docs/incidents.md).

import { getJSON, may, post, session } from "./api.js";
import { $, button, el, row, span } from "./dom.js";
import { formatDistance, formatTime } from "./format.js";
import { acknowledge, deadlineElement, findMessage, gist, onHotlineChange, stateLabel } from "./hotline.js";
import { language, t, tValue } from "./i18n.js";

const CLASSES = ["routine", "serious", "high-risk"];
// The templates a reply to a message of the peer may use, as the catalogue names them.
const REPLY_TEMPLATES = ["clarification-reply", "reassurance", "free-text"];

export const incidents = {
  list: new Map(), // id -> the incident (list --json form)
  openId: null,
  detail: null, // GET /incidents/{id} of the open one
  onShowOnMap: null, // (lon, lat) => void, set by the desk
  // What the officer is typing: the view is drawn again on every live change, the words stay.
  draft: { reason: "", classification: null, text: "", send: true, question: "" },
  // The reply being written: to which message of the peer, with which template, its fields.
  reply: null, // {to, key, fields: {name: value}}
  catalogue: null, // GET /templates: {version, templates: [...]}
};

function clearDraft() {
  incidents.draft = { reason: "", classification: null, text: "", send: true, question: "" };
  incidents.reply = null;
}

// The catalogue is read once, when a reply is first written (it changes only with the software).
async function loadCatalogue() {
  if (incidents.catalogue || !may("read-log")) return incidents.catalogue;
  incidents.catalogue = await getJSON("/templates");
  return incidents.catalogue;
}

function catalogueTemplate(key) {
  return incidents.catalogue?.templates.find((spec) => spec.key === key) ?? null;
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
    threadBlock(detail.messages, incident),
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

// A message's part in the exchange (notification, request…); a message with no such part
// (free text, reassurance) is named by its template.
function threadLabel(message) {
  if (message.role === "message" && message.template_key) return tValue("template", message.template_key);
  return tValue("msgrole", message.role);
}

function threadItem(message) {
  const log = message.direction === "sent" ? "own" : "peer";
  const full = findMessage(message.msg_id);
  const state = full?.state ?? null;
  const li = el("li", { data: { msgId: message.msg_id, direction: message.direction, role: message.role, state } });
  li.append(
    row("head", [
      span("what", `${message.direction === "sent" ? "→" : "←"} ${threadLabel(message)}`),
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
  if (log === "peer" && may("send") && may("read-log")) {
    if (incidents.reply?.to === message.msg_id) li.append(replyForm(message));
    else li.append(button(t("reply.button"), () => startReply(message.msg_id), { action: "reply" }));
  }
  return li;
}

function threadBlock(messages, incident) {
  const items = (messages ?? []).map(threadItem);
  const section = el("section", {
    className: "thread",
    children: [
      el("h3", { text: t("incident.thread") }),
      items.length ? el("ol", { className: "messages", children: items }) : el("p", { className: "muted", text: t("incident.no-messages") }),
    ],
  });
  // A question is about the peer's latest notification, account or reply on the incident.
  const askable = (messages ?? []).some((m) => m.direction === "received" && ["notification", "account", "reply"].includes(m.role));
  if (askable && incident.state !== "closed" && may("manage-incidents")) section.append(clarificationForm());
  return section;
}

// ---- asking and replying -----------------------------------------------------------------

function clarificationForm() {
  const form = el("form", { className: "clarification-form" });
  const question = el("textarea");
  question.name = "question";
  question.rows = 2;
  question.required = true;
  question.maxLength = 4000;
  question.placeholder = t("clarify.placeholder");
  question.value = incidents.draft.question;
  question.addEventListener("input", () => (incidents.draft.question = question.value));
  const submit = el("button", { text: t("clarify.button"), data: { action: "clarify" } });
  submit.type = "submit";
  form.append(question, submit);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const asked = incidents.draft.question;
    incidents.draft.question = "";
    if (!(await act("/clarification", { question: question.value }))) {
      incidents.draft.question = asked;
      renderDetail();
    }
  });
  return form;
}

async function startReply(msgId) {
  await loadCatalogue();
  if (!incidents.catalogue) {
    showRefusal(t("reply.no-catalogue"));
    return;
  }
  incidents.reply = { to: msgId, key: REPLY_TEMPLATES[0], fields: {} };
  renderDetail();
  $("#incident .reply-form")?.scrollIntoView({ block: "nearest" });
}

// What a field holds before the officer types: the incident for a reassurance's subject, the
// interface's language for free text, the first choice of a list.
function defaultValue(spec) {
  if (spec.name === "activity_id") return incidents.openId ?? "";
  if (spec.name === "language") return language();
  if (spec.kind === "choice") return spec.choices[0]?.value ?? "";
  return "";
}

function fieldInput(spec, fields) {
  let input;
  if (spec.kind === "choice") {
    input = el("select", { children: spec.choices.map((c) => el("option", { text: c[language()] ?? c.en })) });
    spec.choices.forEach((c, i) => (input.options[i].value = c.value));
  } else if (spec.kind === "text") {
    input = el("textarea");
    input.rows = 3;
  } else {
    input = el("input");
  }
  input.name = `reply-${spec.name}`;
  input.required = spec.required;
  if (spec.kind === "text" || spec.kind === "line") input.maxLength = spec.max_length;
  input.value = fields[spec.name] ?? defaultValue(spec);
  fields[spec.name] = input.value;
  input.addEventListener(spec.kind === "choice" ? "change" : "input", () => (fields[spec.name] = input.value));
  const label = t(`field.${spec.name}`);
  return el("label", { children: [span("", spec.required ? label : `${label} ${t("field.optional")}`), input] });
}

function replyForm(message) {
  const reply = incidents.reply;
  const form = el("form", { className: "reply-form", data: { template: reply.key } });
  const choice = el("select", {
    children: REPLY_TEMPLATES.map((key) => el("option", { text: catalogueTemplate(key)?.name[language()] ?? key })),
  });
  choice.name = "reply-template";
  REPLY_TEMPLATES.forEach((key, i) => (choice.options[i].value = key));
  choice.value = reply.key;
  choice.addEventListener("change", () => {
    reply.key = choice.value;
    reply.fields = {};
    renderDetail();
  });
  const spec = catalogueTemplate(reply.key);
  // The reference is the message replied to: set, not typed.
  const inputs = (spec?.fields ?? []).filter((f) => f.name !== "reference").map((f) => fieldInput(f, reply.fields));
  const submit = el("button", { text: t("reply.send"), data: { action: "send-reply" } });
  submit.type = "submit";
  form.append(
    el("div", { className: "muted", text: t("hotline.reply-to", { id: message.msg_id }) }),
    el("label", { children: [span("", t("reply.template")), choice] }),
    ...inputs,
    el("div", { className: "buttons", children: [submit, button(t("reply.cancel"), cancelReply, { action: "cancel-reply" })] }),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    sendReply(spec);
  });
  return form;
}

function cancelReply() {
  incidents.reply = null;
  renderDetail();
}

async function sendReply(spec) {
  const reply = incidents.reply;
  if (!reply || !spec) return;
  const fields = Object.fromEntries(Object.entries(reply.fields).filter(([, value]) => value.trim() !== ""));
  if (spec.fields.some((f) => f.name === "reference")) fields.reference = reply.to;
  const answer = await post("/messages", { template: spec.id, fields, reply_to: reply.to });
  const reason = typeof answer.body === "string" ? answer.body : JSON.stringify(answer.body ?? t("error.unreachable"));
  showRefusal(answer.ok ? "" : t("incident.refused", { reason }));
  if (!answer.ok) return;
  incidents.reply = null;
  await loadIncidents();
  renderDetail();
}

function showRefusal(text) {
  const line = $("#incident-error");
  line.hidden = !text;
  line.textContent = text;
}

// ---- actions -----------------------------------------------------------------------------

async function act(path, body) {
  const answer = await post(`/incidents/${encodeURIComponent(incidents.openId)}${path}`, body);
  showRefusal(answer.ok ? "" : t("incident.refused", { reason: answer.body ?? t("error.unreachable") }));
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
