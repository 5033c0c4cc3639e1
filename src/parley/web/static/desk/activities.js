// Activity notifications: both parties' notified (or to be notified) military activities, with
// the Vienna Document findings (notifiable, observation required, late…), the Notify button for
// ours, and their areas on the map (a filled outline in the party's colour, dashed while not yet
// notified, and a label). Read from GET /api/v1/activities (docs/activities.md); read again when
// the hotline log moves, since activity notifications travel as hotline messages.

import * as maplibregl from "../vendor/maplibre-gl.mjs";
import { getJSON, may, post } from "./api.js";
import { $, button, el, row, span } from "./dom.js";
import { formatDateTime } from "./format.js";
import { onHotlineChange } from "./hotline.js";
import { language, t, tValue } from "./i18n.js";

const SOURCE = "activities";
// Ours in the friend hue, the other party's in the hostile hue (the tracks' colours).
const ORIGIN_COLOURS = { own: "#4c8dff", peer: "#ff5c5c" };
const FIGURES = ["troops", "battle_tanks", "armoured_combat_vehicles", "artillery_pieces", "aircraft_sorties", "ships"];

export const activities = {
  list: [], // GET /activities: each activity with its assessment
  map: null,
  labels: [], // the maplibregl.Marker of each area's label
  onShowArea: null, // ([west, south, east, north]) => void, set by the desk
};

onHotlineChange((reloaded) => {
  if (reloaded) loadActivities();
});

export async function loadActivities() {
  if (!may("read-log")) return;
  const list = await getJSON("/activities");
  if (!list) return;
  activities.list = list;
  renderActivities();
}

export function resetActivities() {
  activities.list = [];
  renderActivities();
}

// ---- the map -----------------------------------------------------------------------------

// Called once by the desk when the map has loaded: the areas go under the tracks and trails.
export function addActivityLayers(map) {
  activities.map = map;
  map.addSource(SOURCE, { type: "geojson", data: { type: "FeatureCollection", features: [] } });
  const below = map.getLayer("trails") ? "trails" : undefined;
  const colour = ["match", ["get", "origin"], "own", ORIGIN_COLOURS.own, "peer", ORIGIN_COLOURS.peer, "#bf5af2"];
  map.addLayer({ id: "activity-areas", type: "fill", source: SOURCE,
    paint: { "fill-color": colour, "fill-opacity": 0.1 } }, below);
  map.addLayer({ id: "activity-outlines", type: "line", source: SOURCE,
    filter: ["get", "notified"],
    paint: { "line-color": colour, "line-width": 2, "line-opacity": 0.9 } }, below);
  map.addLayer({ id: "activity-outlines-pending", type: "line", source: SOURCE,
    filter: ["!", ["get", "notified"]],
    paint: { "line-color": colour, "line-width": 2, "line-opacity": 0.9, "line-dasharray": [3, 2] } }, below);
  drawAreas();
}

// Each ring's longitudes made continuous (each step the shorter way round), as the node decides
// containment: an area across ±180° is drawn across it, not around the world.
function unwrapped(ring) {
  const out = [];
  for (const [lon, lat] of ring) {
    if (!out.length) {
      out.push([lon, lat]);
      continue;
    }
    const previous = out[out.length - 1][0];
    const step = ((((lon - previous) % 360) + 540) % 360) - 180;
    out.push([previous + step, lat]);
  }
  return out;
}

function polygons(area) {
  return area.type === "Polygon" ? [area.coordinates] : area.coordinates;
}

function geometry(area) {
  return { type: "MultiPolygon", coordinates: polygons(area).map((rings) => rings.map(unwrapped)) };
}

// [west, south, east, north] of an area (unwrapped longitudes).
export function areaBounds(area) {
  const points = polygons(area).flatMap((rings) => unwrapped(rings[0]));
  const lons = points.map((p) => p[0]);
  const lats = points.map((p) => p[1]);
  return [Math.min(...lons), Math.min(...lats), Math.max(...lons), Math.max(...lats)];
}

// Where the label goes: the middle of the largest exterior ring's vertices.
function labelPoint(area) {
  const rings = polygons(area).map((rings) => unwrapped(rings[0]));
  const largest = rings.reduce((a, b) => (b.length > a.length ? b : a));
  const points = largest.slice(0, -1);
  const mean = (index) => points.reduce((sum, p) => sum + p[index], 0) / points.length;
  return [mean(0), mean(1)];
}

function areaFeature(activity) {
  return {
    type: "Feature",
    geometry: geometry(activity.area),
    properties: { id: activity.id, origin: activity.origin, party: activity.party, notified: activity.notified_at !== null },
  };
}

function drawAreas() {
  const map = activities.map;
  if (!map?.getSource(SOURCE)) return;
  map.getSource(SOURCE).setData({ type: "FeatureCollection", features: activities.list.map(areaFeature) });
  for (const marker of activities.labels) marker.remove();
  activities.labels = activities.list.map((activity) => {
    const label = el("div", {
      className: "activity-label",
      text: activity.name || activity.id,
      data: { id: activity.id, origin: activity.origin },
    });
    return new maplibregl.Marker({ element: label }).setLngLat(labelPoint(activity.area)).addTo(map);
  });
}

// ---- the panel ---------------------------------------------------------------------------

function byStart(a, b) {
  return a.start.localeCompare(b.start) || a.id.localeCompare(b.id);
}

export function renderActivities() {
  const items = [...activities.list].sort(byStart);
  $("#activities-empty").hidden = items.length > 0;
  $("#activity-list").replaceChildren(...items.map(activityItem));
  drawAreas();
}

function figuresText(forces) {
  return FIGURES.filter((name) => forces[name] !== null && forces[name] !== undefined)
    .map((name) => `${t(`figure.${name}`)} ${forces[name].toLocaleString(language() === "ru" ? "ru-RU" : "en-GB")}`)
    .join(" · ");
}

function flagBadge(flag, assessment) {
  const text = flag === "late" ? t("flag.late-by", { days: assessment.days_late }) : tValue("flag", flag);
  return el("span", { className: "flag", text, data: { flag } });
}

function activityItem(activity) {
  const assessment = activity.assessment;
  const li = el("li", { data: { id: activity.id, origin: activity.origin, notified: String(activity.notified_at !== null) } });
  const party = tValue("side", activity.party);
  const whose = t(activity.origin === "own" ? "activity.ours" : "activity.theirs", { party });
  li.append(
    row("head", [span("what", activity.name || activity.id), span("state", whose)]),
    row("pair", [span("", `${activity.id} · ${tValue("activitykind", activity.kind)} · ${tValue("notice", activity.notice)}`)]),
    row("when", [span("", t("activity.period", { start: formatDateTime(activity.start), end: formatDateTime(activity.end) }))]),
  );
  const declared = figuresText(activity.declared);
  if (declared) li.append(row("detail", [span("", `${t("activity.declared")}: ${declared}`)]));
  const observed = figuresText(activity.observed);
  if (observed) li.append(row("detail", [span("", `${t("activity.observed")}: ${observed}`)]));
  li.append(row("when", [span("", activity.notified_at
    ? t("activity.notified-at", { time: formatDateTime(activity.notified_at) })
    : t("activity.due", { time: formatDateTime(assessment.due) }))]));
  if (assessment.flags.length) li.append(row("flags", assessment.flags.map((flag) => flagBadge(flag, assessment))));
  const actions = [button(t("activity.show"), () => activities.onShowArea?.(areaBounds(activity.area)), { action: "show-area" })];
  if (activity.origin === "own" && activity.notified_at === null && may("send")) {
    actions.push(button(t("activity.notify"), () => notify(activity.id), { action: "notify-activity" }));
  }
  li.append(row("buttons", actions));
  return li;
}

async function notify(id) {
  const answer = await post(`/activities/${encodeURIComponent(id)}/notify`);
  const line = $("#activities-error");
  line.hidden = answer.ok;
  line.textContent = answer.ok ? "" : t("activity.refused", { reason: answer.body ?? t("error.unreachable") });
  if (answer.ok) await loadActivities();
}
