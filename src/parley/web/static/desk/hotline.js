// The hotline panel: the peer's messages (inbox) and ours (outbox) with their states, the
// acknowledge button, the escalation deadlines counting down, the escalation banner and the
// link health in the bar. Kept current by the message.*, test.*, link.status and escalation.*
// events (docs/events.md); the log is re-read after each burst of message events.

import { getJSON, may, post, session } from "./api.js";
import { $, button, el, formatDuration, row, span } from "./dom.js";
import { formatTime } from "./format.js";
import { t, tValue } from "./i18n.js";

const NOTIFICATION_TEMPLATE = 1;
const ACK_TEMPLATE = 5;
const TEST_TEMPLATE = 6;
const RELOAD_DELAY_MS = 250;

export const hotline = {
  own: [],
  peer: [],
  deliveredAt: new Map(), // msg_id -> ms when a receipt covering it was seen
  escalations: new Map(), // `${msg_id}:${track}` -> the escalation event's payload
  link: null, // {status, last_error, at}
  lastTest: null, // {time, direction}
  lastReceipt: null, // ms
  loaded: false,
  listeners: [],
  reloadTimer: null,
};

// What other panels do when states change (the incident view shows them too).
export function onHotlineChange(listener) {
  hotline.listeners.push(listener);
}

// reloaded: the log was read again (the incidents' states may have moved with it).
function changed(reloaded = false) {
  renderHotline();
  renderBanner();
  renderHealth();
  for (const listener of hotline.listeners) listener(reloaded);
}

// Signed out: nothing of the last officer's session stays on the screen.
export function resetHotline() {
  Object.assign(hotline, { own: [], peer: [], link: null, lastTest: null, lastReceipt: null, loaded: false });
  hotline.deliveredAt.clear();
  hotline.escalations.clear();
  renderHotline();
  renderBanner();
}

export async function loadHotline() {
  if (!may("read-log")) return;
  const log = await getJSON("/log");
  if (!log) return;
  hotline.own = log.own.filter((m) => m.template !== null);
  hotline.peer = log.peer.filter((m) => m.template !== null);
  hotline.loaded = true;
  noteLatestTest();
  resolveEscalations();
  changed(true);
}

export async function loadLinkStatus() {
  if (!may("read-status")) return;
  const status = await getJSON("/status");
  const replication = status?.replication;
  if (!replication) return;
  const state = replication.failed ? "failed" : !replication.resynced ? "resyncing" : replication.last_error ? "down" : "up";
  hotline.link = { status: state, last_error: replication.last_error, at: Date.now() };
  renderHealth();
}

function scheduleReload() {
  clearTimeout(hotline.reloadTimer);
  hotline.reloadTimer = setTimeout(loadHotline, RELOAD_DELAY_MS);
}

function escalation(payload) {
  hotline.escalations.set(`${payload.msg_id}:${payload.track}`, payload);
  changed();
}

// Event type -> what the hotline does with its payload.
export const HOTLINE_EVENTS = {
  "message.recorded": scheduleReload,
  "message.received": scheduleReload,
  "message.acknowledged": scheduleReload,
  "message.answered": scheduleReload,
  "message.unacknowledged": scheduleReload,
  "message.delivered": (payload) => {
    const now = Date.now();
    for (const id of payload.msg_ids ?? []) hotline.deliveredAt.set(id, now);
    hotline.lastReceipt = now;
    scheduleReload();
  },
  "test.sent": (payload) => {
    hotline.lastTest = { time: payload.time, direction: "sent" };
    scheduleReload();
  },
  "test.received": (payload) => {
    hotline.lastTest = { time: payload.time, direction: "received" };
    scheduleReload();
  },
  "link.status": (payload) => {
    hotline.link = { status: payload.status, last_error: payload.last_error, at: Date.now() };
    renderHealth();
  },
  "escalation.notice": escalation,
  "escalation.no-one-on-duty": escalation,
  "escalation.unacknowledged": escalation,
};

function noteLatestTest() {
  const tests = [
    ...hotline.own.filter((m) => m.template === TEST_TEMPLATE).map((m) => ({ time: m.time, direction: "sent" })),
    ...hotline.peer.filter((m) => m.template === TEST_TEMPLATE).map((m) => ({ time: m.time, direction: "received" })),
  ].sort((a, b) => a.time.localeCompare(b.time));
  if (tests.length) hotline.lastTest = tests[tests.length - 1];
}

// The view of one message of either log (undefined when unknown).
export function findMessage(msgId) {
  return hotline.own.find((m) => m.msg_id === msgId) ?? hotline.peer.find((m) => m.msg_id === msgId);
}

// "delivered · acknowledged · answered": every state reached after recorded/received.
export function stateLabel(view) {
  const states = view.states ?? [view.state];
  const shown = states.length > 1 ? states.slice(1) : states;
  return shown.map((state) => tValue("msgstate", state)).join(" · ");
}

export async function acknowledge(msgId) {
  const answer = await post(`/inbox/${encodeURIComponent(msgId)}/ack`);
  if (!answer.ok) {
    showHotlineError(t("hotline.ack-failed", { reason: answer.body ?? t("error.unreachable") }));
    return false;
  }
  showHotlineError("");
  await loadHotline();
  return true;
}

function showHotlineError(text) {
  const line = $("#hotline-error");
  line.hidden = !text;
  line.textContent = text;
}

// ---- deadlines ---------------------------------------------------------------------------

// The running escalation deadline of a message: {track, due (ms)} or null. Counted from the
// message's time (the delivery and inbound tracks) or from when its receipt was seen.
export function deadline(message, log) {
  const deadlines = session.config?.deadlines ?? {};
  const sent = new Date(message.time).getTime();
  const states = message.states ?? [message.state];
  if (message.template === ACK_TEMPLATE || message.type !== "message") return null;
  if (log === "peer") {
    if (states.includes("acknowledged")) return null;
    return { track: "inbound", due: sent + 1000 * (deadlines.inbound ?? 120) };
  }
  if (states.includes("unacknowledged")) return null;
  if (!states.includes("delivered")) return { track: "delivery", due: sent + 1000 * (deadlines.delivery ?? 120) };
  const receipt = hotline.deliveredAt.get(message.msg_id) ?? sent;
  if (!states.includes("acknowledged")) {
    return { track: "acknowledgement", due: receipt + 1000 * (deadlines.acknowledgement ?? 600) };
  }
  if ([1, 2].includes(message.template) && !states.includes("answered")) {
    return { track: "answer", due: receipt + 1000 * (deadlines.answer ?? 14400) };
  }
  return null;
}

export function deadlineElement(message, log) {
  const running = deadline(message, log);
  if (!running) return null;
  return el("div", { className: "deadline", data: { due: String(running.due), track: running.track } });
}

// Every second: each countdown on the page (panel and incident view) moves on.
export function tickDeadlines() {
  const now = Date.now();
  for (const element of document.querySelectorAll(".deadline[data-due]")) {
    const left = (Number(element.dataset.due) - now) / 1000;
    const track = tValue("track", element.dataset.track);
    element.dataset.overdue = String(left < 0);
    element.textContent =
      left >= 0
        ? t("deadline.left", { track, time: formatDuration(left) })
        : t("deadline.overdue", { track, time: formatDuration(left) });
  }
}

// ---- the panel ---------------------------------------------------------------------------

// The line that says what a message is about (its summary, question or answer).
export function gist(message) {
  const fields = message.fields ?? {};
  return fields.summary ?? fields.question ?? fields.answer ?? fields.text ?? fields.reference ?? "";
}

// What a message is: its template, except that an incident notification sent in reply to one
// carries its sender's account of the incident (docs/incidents.md), and is called so.
export function messageLabel(message) {
  if (message.template === NOTIFICATION_TEMPLATE && message.in_reply_to) return t("template.incident-account");
  return tValue("template", message.template_key);
}

function messageItem(message, log) {
  const li = el("li", { data: { msgId: message.msg_id, state: message.state, log, template: message.template_key } });
  const what = messageLabel(message);
  const arrow = log === "peer" ? "←" : "→";
  li.append(
    row("head", [span("what", `${arrow} ${what}`), span("state", stateLabel(message))]),
    row("when", [span("", formatTime(message.time))]),
  );
  const text = gist(message);
  if (text) li.append(row("gist", [span("", text)]));
  if (message.in_reply_to) li.append(row("when", [span("", t("hotline.reply-to", { id: message.in_reply_to }))]));
  const countdown = deadlineElement(message, log);
  if (countdown) li.append(countdown);
  if (log === "peer" && may("ack") && countdown) {
    li.append(button(t("hotline.ack"), () => acknowledge(message.msg_id), { action: "ack" }));
  }
  return li;
}

export function renderHotline() {
  const inbox = [...hotline.peer].reverse();
  const outbox = [...hotline.own].reverse();
  $("#inbox").replaceChildren(...inbox.map((m) => messageItem(m, "peer")));
  $("#outbox").replaceChildren(...outbox.map((m) => messageItem(m, "own")));
  $("#inbox-empty").hidden = inbox.length > 0;
  $("#outbox-empty").hidden = outbox.length > 0;
  const waiting = inbox.filter((m) => deadline(m, "peer")).length;
  $("#tab-count-hotline").textContent = waiting ? String(waiting) : "";
  tickDeadlines();
}

// ---- the banner and the link health -------------------------------------------------------

// An escalation stops mattering once its message reached what the track waited for.
const RESOLVED_BY = { delivery: "delivered", acknowledgement: "acknowledged", inbound: "acknowledged", answer: "answered" };

function resolveEscalations() {
  for (const [key, payload] of hotline.escalations) {
    if (payload.kind === "unacknowledged") continue;
    const message = [...hotline.own, ...hotline.peer].find((m) => m.msg_id === payload.msg_id);
    if (message && (message.states ?? []).includes(RESOLVED_BY[payload.track])) hotline.escalations.delete(key);
  }
}

export function renderBanner() {
  const banner = $("#banner");
  const active = [...hotline.escalations.entries()];
  banner.hidden = active.length === 0;
  document.body.dataset.escalation = String(active.length > 0);
  const lines = active.map(([key, payload]) =>
    el("li", {
      data: { kind: payload.kind, track: payload.track },
      children: [
        span("", t(`escalation.${payload.kind}`, {
          track: tValue("track", payload.track),
          level: tValue("role", payload.level),
          id: payload.msg_id,
          time: formatTime(payload.fired_at),
        })),
        button(t("banner.show"), () => showMessage(payload.msg_id)),
        button(t("banner.seen"), () => {
          hotline.escalations.delete(key);
          renderBanner();
        }),
      ],
    }),
  );
  $("#banner-lines").replaceChildren(...lines);
}

function showMessage(msgId) {
  document.dispatchEvent(new CustomEvent("desk:tab", { detail: "hotline" }));
  const item = document.querySelector(`#panel li[data-msg-id="${CSS.escape(msgId)}"]`);
  item?.scrollIntoView({ block: "center" });
  item?.classList.add("selected");
}

export function renderHealth() {
  const health = $("#health");
  health.hidden = !(may("read-status") || may("read-log"));
  const link = hotline.link;
  $("#health-link").dataset.state = link?.status ?? "unknown";
  $("#health-link").textContent = t("health.link", { status: tValue("linkstatus", link?.status ?? "unknown") });
  $("#health-link").title = link?.last_error ?? "";
  const test = hotline.lastTest;
  $("#health-test").textContent = t("health.test", {
    time: test ? `${formatTime(test.time)} ${tValue("direction", test.direction)}` : "–",
  });
  const receipt = hotline.lastReceipt;
  $("#health-receipt").textContent = t("health.receipt", {
    time: receipt ? formatTime(new Date(receipt).toISOString()) : "–",
  });
}
