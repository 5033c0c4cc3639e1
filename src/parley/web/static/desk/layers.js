// The map's live layers: trails, warnings (paths, predicted closest points), encounters, track
// symbols with their course leaders and the selection ring, each fed by a GeoJSON source the
// desk updates at most once an animation frame. Every track of a kind shares one image
// (symbols.js), so the map draws 10,000 tracks as two symbol layers (or dots when crowded), not
// 10,000 markers.

import { LINE_COLOURS, SEVERITY_COLOURS, sideColour } from "./symbols.js";
import { session } from "./api.js";

// Below this speed (m/s) a track has no course worth a leader line.
const LEADER_MIN_SPEED = 0.5;
// A crowded picture (this many tracks) shows each track as a dot in its side's colour below
// CROWDED_MIN_ZOOM, and symbols, leaders and trails from there on (a view of the whole theatre
// would be a tangle of them, and drawing 10,000 symbols and leaders there takes seconds a
// frame without a GPU); it rebuilds its trails at most every CROWDED_TRAILS_MS: each rebuild
// sends every track's trail to the map's worker again.
const CROWDED_TRACKS = 2000;
const CROWDED_MIN_ZOOM = 7;
const CROWDED_TRAILS_MS = 5000;
// The performance mark of the first frame that shows tracks (bench/bench_desk.py reads it).
export const FIRST_PICTURE_MARK = "parley:first-picture";

function severityColour() {
  const pairs = Object.entries(SEVERITY_COLOURS).flat();
  return ["match", ["get", "severity"], ...pairs, "#8494a7"];
}

// Each side in its line colour as this desk sees it (symbols.js: our party friend, ...).
function sideColourExpression() {
  const config = session.config ?? {};
  const sides = [...new Set(["civil", config.party, config.peer_party].filter(Boolean))];
  const pairs = sides.flatMap((side) => [side, sideColour(side)]);
  return ["match", ["get", "side"], ...pairs, LINE_COLOURS.unknown];
}

export function addLiveLayers(map) {
  const empty = { type: "FeatureCollection", features: [] };
  for (const name of ["trails", "warnings", "encounters", "tracks", "selection"]) {
    map.addSource(name, { type: "geojson", data: empty });
  }
  map.addLayer({ id: "trails", type: "line", source: "trails",
    paint: { "line-color": sideColourExpression(), "line-width": 1.5, "line-opacity": 0.55 } });
  map.addLayer({ id: "warning-paths", type: "line", source: "warnings",
    filter: ["all", ["==", ["geometry-type"], "LineString"], ["==", ["get", "part"], "path"]],
    paint: { "line-color": severityColour(), "line-width": 1.2, "line-dasharray": [2, 2] } });
  map.addLayer({ id: "warning-cpa-line", type: "line", source: "warnings",
    filter: ["all", ["==", ["geometry-type"], "LineString"], ["==", ["get", "part"], "cpa"]],
    paint: { "line-color": severityColour(), "line-width": 2.5 } });
  map.addLayer({ id: "warning-cpa", type: "circle", source: "warnings",
    filter: ["==", ["geometry-type"], "Point"],
    paint: { "circle-radius": 7, "circle-color": "rgba(0,0,0,0)", "circle-stroke-width": 2.5,
      "circle-stroke-color": severityColour() } });
  map.addLayer({ id: "encounters", type: "circle", source: "encounters",
    paint: { "circle-radius": 11, "circle-color": severityColour(),
      "circle-opacity": ["case", ["==", ["get", "state"], "closed"], 0.12, 0.3],
      "circle-stroke-width": 2.5, "circle-stroke-color": severityColour() } });
  map.addLayer({ id: "track-dots", type: "circle", source: "tracks", layout: { visibility: "none" },
    paint: { "circle-radius": 2.5, "circle-color": sideColourExpression(),
      "circle-opacity": ["case", ["get", "dark"], 0, 1], "circle-stroke-width": ["case", ["get", "dark"], 1, 0],
      "circle-stroke-color": sideColourExpression() } });
  // the leader image is as long as the leader and turns about its bottom end: the track
  map.addLayer({ id: "leaders", type: "symbol", source: "tracks",
    filter: [">=", ["get", "speed"], LEADER_MIN_SPEED],
    layout: { "icon-image": ["get", "leader"], "icon-rotate": ["get", "course"], "icon-anchor": "bottom",
      "icon-rotation-alignment": "map", "icon-allow-overlap": true, "icon-ignore-placement": true } });
  map.addLayer({ id: "tracks", type: "symbol", source: "tracks",
    // the parties' tracks over civil traffic (higher keys are drawn over lower ones)
    layout: { "icon-image": ["get", "icon"], "icon-allow-overlap": true, "icon-ignore-placement": true,
      "symbol-sort-key": ["case", ["==", ["get", "side"], "civil"], 0, 1] } });
  map.addLayer({ id: "selection", type: "circle", source: "selection",
    paint: { "circle-radius": 18, "circle-color": "rgba(0,0,0,0)", "circle-stroke-width": 2,
      "circle-stroke-color": "#ffffff" } });
  markFirstPicture(map);
}

// The first frame in which the map has drawn tracks (symbols or dots): a performance mark (its startTime
// counts from the navigation's start) and body[data-first-picture]. Checked on each frame until
// then only.
function markFirstPicture(map) {
  const check = () => {
    if (map.queryRenderedFeatures({ layers: ["tracks", "track-dots"] }).length === 0) return;
    map.off("render", check);
    performance.mark(FIRST_PICTURE_MARK);
    document.body.dataset.firstPicture = "true";
  };
  map.on("render", check);
}

const drawnAt = new WeakMap(); // map -> {trails: ms of the last trails rebuild, crowded}

// Hand the map the sources whose content changed since the last call (at most once a frame:
// the desk calls this from requestAnimationFrame).
export function drawPicture(map, picture) {
  if (!map.getSource("tracks")) return;
  const state = drawnAt.get(map) ?? { trails: -Infinity, crowded: null };
  drawnAt.set(map, state);
  const crowded = picture.tracks.size >= CROWDED_TRACKS;
  if (crowded !== state.crowded) {
    state.crowded = crowded;
    for (const layer of ["trails", "leaders", "tracks"]) map.setLayerZoomRange(layer, crowded ? CROWDED_MIN_ZOOM : 0, 24);
    map.setLayerZoomRange("track-dots", 0, CROWDED_MIN_ZOOM);
    map.setLayoutProperty("track-dots", "visibility", crowded ? "visible" : "none");
  }
  const now = performance.now();
  for (const source of picture.takeChanges()) {
    if (source === "trails" && crowded && now - state.trails < CROWDED_TRAILS_MS) {
      picture.changed.add("trails"); // still due: the next frame after the interval
      continue;
    }
    if (source === "trails") state.trails = now;
    map.getSource(source).setData(picture.geoJSON(source));
  }
}

