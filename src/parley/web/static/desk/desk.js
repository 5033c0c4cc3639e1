// The duty officer's desk: sign-in, then the map of the theatre and the warnings panel, kept
// live by the node's event stream. Everything is loaded from this server (docs/desk.md).

import * as maplibregl from "../vendor/maplibre-gl.mjs";
import { API, api, may, session } from "./api.js";
import { $, escapeHtml, row, span } from "./dom.js";
import { activities, addActivityLayers, loadActivities, renderActivities, resetActivities } from "./activities.js";
import { HOTLINE_EVENTS, loadHotline, loadLinkStatus, renderBanner, renderHealth, renderHotline, resetHotline, tickDeadlines } from "./hotline.js";
import { INCIDENT_EVENTS, closeIncidentView, incidents, loadIncidents, renderDetail, renderIncidentList, resetIncidents } from "./incidents.js";
import { formatDateTime, formatDistance, formatSpeed, formatTime } from "./format.js";
import { applyTo, language, loadLanguages, setLanguage, t, tValue } from "./i18n.js";
import { Picture } from "./picture.js";
import { CROWDED_MIN_ZOOM, addLiveLayers, drawPicture, drawnTracks } from "./layers.js";
import { pickTrack } from "./dots-layer.js";
import { installSymbols } from "./symbols.js";
import { loadRoster, renderRoster, resetRoster } from "./roster.js";

const USER_KEY = "parley.desk.user";
// picture.updated goes to the picture's worker as text (parsed there, not on this thread).
const PICTURE_EVENT = "picture.updated";
const LIVE_EVENTS = {
  "warning.raised": (picture, payload) => picture.warning(payload),
  "warning.updated": (picture, payload) => picture.warning(payload),
  "warning.withdrawn": (picture, payload) => picture.warning(payload),
  "encounter.opened": (picture, payload) => picture.encounter(payload),
  "encounter.updated": (picture, payload) => picture.encounter(payload),
  "encounter.closed": (picture, payload) => picture.encounter(payload),
};

const desk = {
  config: null,
  user: null,
  map: null,
  picture: new Picture(),
  stream: null,
  selected: null,
  renderPending: false,
  mapReady: false,
  detailBox: null, // [west, south, east, north] of the detailed basemap loaded, if any
  alertFilter: "all", // which of the warnings and encounters the panel lists: all, warning, encounter
  panelDrawn: null, // the alerts' version and filter the panel shows (rebuilt only when they change)
};
desk.picture.onChange = () => scheduleRender();
desk.picture.onError = (message) => console.warn(`picture worker: ${message}`);
// For the browser tests and for an officer's console: the state, read-only by convention.
window.parleyDesk = desk;
desk.drawnTracks = () => (desk.map ? drawnTracks(desk.map) : 0); // tracks the latest frame drew
desk.incidents = incidents;
desk.activities = activities;

// ---- sign-in ---------------------------------------------------------------------------------

function showSignIn(message) {
  $("#desk").hidden = true;
  $("#sign-in").hidden = false;
  $("#who").hidden = true;
  $("#sign-out").hidden = true;
  const error = $("#sign-in-error");
  error.hidden = !message;
  error.textContent = message ?? "";
  $("#sign-in-form input[name=name]").focus();
}

async function signIn(event) {
  event.preventDefault();
  const form = event.target;
  const body = JSON.stringify({ name: form.name.value, password: form.password.value });
  let response;
  try {
    response = await api("/session", { method: "POST", body });
  } catch {
    showSignIn(t("error.unreachable"));
    return;
  }
  if (!response.ok) {
    const detail = (await response.json().catch(() => ({}))).detail ?? response.statusText;
    showSignIn(t("signin.failed", { reason: typeof detail === "string" ? detail : response.status }));
    return;
  }
  const answer = await response.json();
  desk.user = session.user = { name: answer.name, role: answer.role };
  sessionStorage.setItem(USER_KEY, JSON.stringify(desk.user));
  form.password.value = "";
  await openDesk();
}

async function signOut() {
  await api("/session", { method: "DELETE" }).catch(() => null);
  closeDesk();
  showSignIn();
}

function closeDesk() {
  desk.stream?.close();
  desk.stream = null;
  desk.user = session.user = null;
  resetIncidents();
  resetHotline();
  resetActivities();
  resetRoster();
  sessionStorage.removeItem(USER_KEY);
  setLink("off");
}

// ---- the desk --------------------------------------------------------------------------------

async function openDesk() {
  $("#sign-in").hidden = true;
  $("#desk").hidden = false;
  $("#who").hidden = false;
  $("#sign-out").hidden = false;
  renderWho();
  for (const element of document.querySelectorAll("[data-needs]")) {
    element.hidden = !may(element.dataset.needs);
  }
  const canWatch = may("read-picture") && may("read-events");
  $("#nothing-for-role").hidden = canWatch;
  $("#map").hidden = !canWatch;
  $("#status").hidden = !canWatch;
  renderHealth();
  if (!canWatch) return;
  showTab("alerts");
  desk.picture.configure(desk.config);
  if (!desk.map) {
    desk.picture.reload(); // the snapshot is read (in the worker) while the map loads
    await createMap();
  }
  connect();
}

// ---- the panel's tabs ------------------------------------------------------------------------

function showTab(name) {
  for (const tab of document.querySelectorAll("#tabs [data-tab]")) {
    tab.setAttribute("aria-selected", String(tab.dataset.tab === name));
  }
  for (const panel of document.querySelectorAll("#panel [data-tab-panel]")) {
    panel.hidden = panel.dataset.tabPanel !== name;
  }
}

// An incident's place, close enough to tell the two tracks apart, left of the incident view.
const INCIDENT_ZOOM = 11;

function showOnMap(lon, lat) {
  if (!desk.map) return;
  const ring = { type: "Feature", geometry: { type: "Point", coordinates: [lon, lat] }, properties: {} };
  desk.map.getSource("selection")?.setData({ type: "FeatureCollection", features: [ring] });
  const covered = $("#incident").hidden ? 0 : $("#incident").offsetWidth;
  desk.map.flyTo({ center: [lon, lat], zoom: INCIDENT_ZOOM, padding: { right: covered }, duration: 800 });
}

// Everything the panels read from the API, again (after a connect or a stream reset).
function reloadAll() {
  loadPicture();
  loadIncidents();
  loadHotline();
  loadLinkStatus();
  loadActivities();
  loadRoster();
}

async function createMap() {
  const style = await (await fetch("/desk/static/desk/style.json")).json();
  const [west, south, east, north] = desk.config.theatre;
  const box = desk.config.basemap.join(",");
  // MapLibre fetches in a worker: the URL must be absolute.
  style.sources.basemap.data = new URL(`/desk/basemap.geojson?bbox=${box}`, location.href).href;
  const map = new maplibregl.Map({
    container: "map",
    style,
    bounds: [[west, south], [east, north]],
    attributionControl: false,
    fadeDuration: 0,
    maxZoom: 15,
  });
  desk.map = map;
  map.addControl(new maplibregl.NavigationControl({ showCompass: true }), "top-left");
  map.addControl(new maplibregl.ScaleControl({ unit: "nautical" }), "bottom-left");
  map.addControl(new maplibregl.AttributionControl({ compact: true, customAttribution: "Natural Earth" }));
  installSymbols(map);
  map.once("load", () => performance.mark("parley:map-loaded")); // bench/bench_desk.py reads it
  // the live layers go in once the style is read, not after the basemap has been drawn ("load"):
  // the tracks need not wait for the coastline
  await new Promise((resolve) => {
    map.once("style.load", resolve);
    map.once("load", resolve);
  });
  addLiveLayers(map, desk.picture);
  addActivityLayers(map);
  scheduleRender(); // tracks the worker handed over while the map was loading
  map.on("moveend", () => loadDetail(map));
  map.on("click", (event) => clickTrack(map, event));
  map.on("moveend", scheduleRender); // which tracks get symbols follows the view (layers.js)
  map.on("mouseenter", "tracks", () => (map.getCanvas().style.cursor = "pointer"));
  map.on("mouseleave", "tracks", () => (map.getCanvas().style.cursor = ""));
  map.once("idle", () => {
    desk.mapReady = true;
    document.body.dataset.mapReady = "true";
  });
}

// From zoom 7 the coastline of the theatre's basemap is too coarse: load the view's own (a box
// half a view larger on each side, snapped to half degrees so that small moves reuse it).
const DETAIL_ZOOM = 7;

function loadDetail(map) {
  if (map.getZoom() < DETAIL_ZOOM) return;
  const view = map.getBounds();
  const held = desk.detailBox;
  if (held && view.getWest() >= held[0] && view.getSouth() >= held[1] && view.getEast() <= held[2] && view.getNorth() <= held[3]) return;
  const width = view.getEast() - view.getWest();
  const height = view.getNorth() - view.getSouth();
  const down = (value) => Math.floor(value * 2) / 2;
  const up = (value) => Math.ceil(value * 2) / 2;
  const box = [
    down(view.getWest() - width / 2),
    Math.max(-85, down(view.getSouth() - height / 2)),
    up(view.getEast() + width / 2),
    Math.min(85, up(view.getNorth() + height / 2)),
  ];
  desk.detailBox = box;
  map.getSource("basemap-detail").setData(new URL(`/desk/basemap.geojson?bbox=${box.join(",")}`, location.href).href);
}

// ---- the live picture ------------------------------------------------------------------------

function setLink(state) {
  const link = $("#link");
  link.dataset.state = state;
  link.dataset.i18n = `link.${state}`;
  link.textContent = t(`link.${state}`);
}

function connect() {
  desk.stream?.close();
  const stream = new EventSource(`${API}/events`);
  desk.stream = stream;
  stream.addEventListener("open", () => {
    setLink("live");
    reloadAll();
  });
  stream.addEventListener("error", () => {
    setLink(stream.readyState === EventSource.CLOSED ? "off" : "retry");
    if (stream.readyState === EventSource.CLOSED) checkSession();
  });
  stream.addEventListener(PICTURE_EVENT, (message) => desk.picture.updateTracks(message.data));
  for (const [type, apply] of Object.entries(LIVE_EVENTS)) {
    // drawn by the picture's onChange once their burst is in (picture.js, ALERTS_WAIT_MS)
    stream.addEventListener(type, (message) => apply(desk.picture, JSON.parse(message.data).payload));
  }
  for (const [type, apply] of Object.entries({ ...INCIDENT_EVENTS, ...HOTLINE_EVENTS })) {
    stream.addEventListener(type, (message) => apply(JSON.parse(message.data).payload));
  }
  stream.addEventListener("stream.reset", () => reloadAll());
}

async function checkSession() {
  const response = await api("/identity").catch(() => null);
  if (response && response.status === 401) {
    closeDesk();
    showSignIn(t("error.session"));
  }
}

function loadPicture() {
  desk.picture.reload(); // the worker reads it and hands the tracks, warnings and encounters back
}

function scheduleRender() {
  if (desk.renderPending) return;
  desk.renderPending = true;
  requestAnimationFrame(() => {
    desk.renderPending = false;
    render();
  });
}

function render() {
  const map = desk.map;
  const picture = desk.picture;
  if (map) drawPicture(map, picture); // only the sources that changed (layers.js)
  renderPanel();
  renderStatus();
}

function renderStatus() {
  $("#track-count").textContent = t("status.tracks", { n: desk.picture.tracks.size });
  const time = desk.picture.time;
  $("#picture-time").textContent = time ? `· ${t("status.time", { time: formatDateTime(time) })}` : "";
}

function renderWho() {
  if (!desk.user) return;
  $("#who").textContent = `${desk.user.name} (${tValue("role", desk.user.role)})`;
}

// The warnings and encounters, rebuilt only when the list (or its filter) changed, not on every
// picture update; `force` after a change of language or selection.
function renderPanel(force = false) {
  const list = $("#alerts");
  const filter = desk.alertFilter;
  const drawn = `${desk.picture.alertsVersion}|${filter}`;
  if (!force && desk.panelDrawn === drawn) return;
  desk.panelDrawn = drawn;
  const items = desk.picture.alerts().filter((item) => filter === "all" || item.kind === filter);
  $("#panel-empty").hidden = items.length > 0;
  list.replaceChildren(...items.map(alertItem));
}

function alertItem(item) {
  const li = document.createElement("li");
  li.dataset.key = item.key;
  li.dataset.kind = item.kind;
  li.dataset.severity = item.severity;
  li.dataset.state = item.state;
  li.classList.toggle("selected", desk.selected === item.key);
  const title = t(item.kind === "warning" ? "warning.title" : "encounter.title");
  const detail =
    item.kind === "warning"
      ? t("detail.cpa", { distance: formatDistance(item.distance), seconds: Math.round(item.seconds) })
      : t("detail.min", { distance: formatDistance(item.distance), time: formatTime(item.cpaTime) });
  li.append(
    row("head", [span("what", `${title}: ${tValue("severity", item.severity)}`), span("state", t(`state.${item.state}`))]),
    row("pair", [span("", `${item.a} ↔ ${item.b} · ${tValue("kind", item.pairKind)}`)]),
    row("detail", [span("", detail)]),
    row("when", [span("", formatTime(item.time))]),
  );
  // the item as it is now (a warning's predicted point moves with the tracks)
  li.addEventListener("click", () => select(desk.picture.alerts().find((a) => a.key === item.key) ?? item));
  return li;
}

function select(item) {
  desk.selected = item.key;
  const data = { type: "FeatureCollection", features: [] };
  if (item.position) {
    data.features.push({ type: "Feature", geometry: { type: "Point", coordinates: item.position }, properties: {} });
    desk.map.flyTo({ center: item.position, zoom: Math.max(desk.map.getZoom(), 8), duration: 800 });
  }
  desk.map.getSource("selection").setData(data);
  renderPanel(true);
}

function setAlertFilter(filter) {
  desk.alertFilter = filter;
  for (const choice of document.querySelectorAll("#alert-filter [data-filter]")) {
    choice.setAttribute("aria-pressed", String(choice.dataset.filter === filter));
  }
  renderPanel(true);
}

function showArea([west, south, east, north]) {
  if (!desk.map) return;
  desk.map.fitBounds([[west, south], [east, north]], { padding: 60, maxZoom: 10, duration: 800 });
}

// A click on a track's symbol, or (dots below zoom 7) on the dot nearest the click.
function clickTrack(map, event) {
  const symbols = map.queryRenderedFeatures(event.point, { layers: ["tracks"] });
  if (symbols.length > 0) {
    showTrack(symbols[0].properties.id, event.lngLat);
    return;
  }
  if (map.getZoom() >= CROWDED_MIN_ZOOM) return;
  const id = pickTrack(map, desk.picture.tracks, event.point);
  if (id) showTrack(id);
}

// The popup of a track, at `lngLat` (default: the track's position).
function showTrack(id, lngLat) {
  const r = desk.picture.tracks.row(id);
  if (!r) return;
  lngLat ??= [r.lon, r.lat];
  const lines = [
    `<strong>${escapeHtml(r.callsign || id)}</strong> ${escapeHtml(id)}`,
    `${t("track.side")}: ${escapeHtml(tValue("side", r.side))} · ${escapeHtml(tValue("domain", r.domain))}`,
    r.type ? `${t("track.type")}: ${escapeHtml(r.type)}` : "",
    `${t("track.speed")}: ${formatSpeed(r.speed_mps)} · ${t("track.course")}: ${Math.round(r.course_deg ?? 0)}°`,
    r.domain === "air" && r.alt_m !== null ? `${t("track.alt")}: ${formatDistance(r.alt_m)}` : "",
    r.transponder === "off" ? `<em>${t("track.dark")}</em>` : "",
    formatTime(r.time),
  ];
  desk.popup?.remove();
  desk.popup = new maplibregl.Popup({ closeButton: true }).setLngLat(lngLat).setHTML(lines.filter(Boolean).join("<br>")).addTo(desk.map);
}

// ---- start -----------------------------------------------------------------------------------

function tickClock() {
  $("#clock").textContent = formatDateTime(new Date().toISOString());
  tickDeadlines();
}

async function start() {
  await loadLanguages();
  desk.config = session.config = await (await fetch("/desk/config.json")).json();
  incidents.onShowOnMap = showOnMap;
  activities.onShowArea = showArea;
  $("#party").textContent = desk.config.party;
  applyTo(document);
  for (const button of document.querySelectorAll("[data-language]")) {
    button.addEventListener("click", () => setLanguage(button.dataset.language));
  }
  document.addEventListener("languagechange", () => {
    renderWho();
    renderPanel(true);
    renderStatus();
    renderIncidentList();
    if (incidents.detail) renderDetail();
    renderHotline();
    renderBanner();
    renderHealth();
    renderActivities();
    renderRoster();
    tickClock();
    document.body.dataset.language = language();
  });
  $("#sign-in-form").addEventListener("submit", signIn);
  $("#sign-out").addEventListener("click", signOut);
  for (const tab of document.querySelectorAll("#tabs [data-tab]")) {
    tab.addEventListener("click", () => showTab(tab.dataset.tab));
  }
  document.addEventListener("desk:tab", (event) => showTab(event.detail));
  for (const choice of document.querySelectorAll("#alert-filter [data-filter]")) {
    choice.addEventListener("click", () => setAlertFilter(choice.dataset.filter));
  }
  $("#incident-close").addEventListener("click", closeIncidentView);
  tickClock();
  setInterval(tickClock, 1000);
  const saved = JSON.parse(sessionStorage.getItem(USER_KEY) ?? "null");
  const alive = saved && (await api("/identity").catch(() => null))?.ok;
  if (alive) {
    desk.user = session.user = saved;
    await openDesk();
  } else {
    showSignIn();
  }
  document.body.dataset.language = language();
}

start();
