// The map's live layers: trails, warnings (paths, predicted closest points), encounters, track
// symbols with their course leaders and the selection ring, each fed by a GeoJSON source the
// desk updates at most once an animation frame, and the dots of a crowded picture (a WebGL
// custom layer fed typed arrays: dots-layer.js). Every track of a kind shares one image
// (symbols.js), so the map draws the symbols as two symbol layers, not thousands of markers; and
// symbols only for the tracks in (and around) the view (the worker builds that GeoJSON).

import { LINE_COLOURS, SEVERITY_COLOURS, sideColour } from "./symbols.js";
import { session } from "./api.js";
import { DotsLayer } from "./dots-layer.js";

// Below this speed (m/s) a track has no course worth a leader line.
const LEADER_MIN_SPEED = 0.5;
// A crowded picture (this many tracks) shows each track as a dot in its side's colour below
// CROWDED_MIN_ZOOM, and symbols, leaders and trails from there on (a view of the whole theatre
// would be a tangle of them, and drawing 10,000 symbols and leaders there takes seconds a
// frame without a GPU), for the tracks in the view and half a view around it.
export const CROWDED_TRACKS = 2000;
export const CROWDED_MIN_ZOOM = 7;
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

export function addLiveLayers(map, picture) {
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
  const dots = new DotsLayer("track-dots", sideColour);
  dots.visible = false;
  map.addLayer(dots);
  layersOf.set(map, { dots });
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
  watchFirstSymbols(map, picture);
}

// The first frame in which the map has drawn tracks (symbols or dots): a performance mark (its startTime
// counts from the navigation's start) and body[data-first-picture]. Checked on each frame until
// then only.
const symbolsDrawn = new WeakSet(); // maps that have drawn track symbols at least once

function watchFirstSymbols(map, picture) {
  const check = () => {
    if (map.queryRenderedFeatures({ layers: ["tracks"] }).length === 0) return;
    map.off("render", check);
    symbolsDrawn.add(map);
    updateView(map, picture);
  };
  map.on("render", check);
}

function markFirstPicture(map) {
  const check = () => {
    if (drawnTracks(map) === 0) return;
    map.off("render", check);
    performance.mark(FIRST_PICTURE_MARK);
    document.body.dataset.firstPicture = "true";
  };
  map.on("render", check);
}

const layersOf = new WeakMap(); // map -> {dots: DotsLayer}
// The small sources whose GeoJSON is compared with what the map holds before it is sent again.
const COMPARED_SOURCES = new Set(["warnings", "encounters"]);
const sentOf = new WeakMap(); // map -> Map(source -> JSON text last handed to it)
const drawnAt = new WeakMap(); // map -> {crowded, symbols, box}

// How many tracks the latest frame drew: dots, or symbols in the view.
export function drawnTracks(map) {
  const dots = layersOf.get(map)?.dots;
  if (dots && dots.drawn > 0) return dots.drawn;
  return map.queryRenderedFeatures({ layers: ["tracks"] }).length;
}

// Which tracks get symbols: all, none (dots only), or those in a box of the view and half a view
// around it; told to the picture's worker when that changes (after each move of the map).
export function updateView(map, picture) {
  const state = drawnAt.get(map) ?? { crowded: null, symbols: null, box: null };
  drawnAt.set(map, state);
  const crowded = picture.tracks.n >= CROWDED_TRACKS;
  if (crowded !== state.crowded) {
    state.crowded = crowded;
    for (const layer of ["trails", "leaders", "tracks"]) map.setLayerZoomRange(layer, crowded ? CROWDED_MIN_ZOOM : 0, 24);
    map.triggerRepaint();
  }
  const dots = layersOf.get(map)?.dots;
  // dots first: until the map has drawn its first symbols (their source is tiled in the map's
  // worker after the basemap, seconds on a slow machine), the tracks show as dots
  const dotsOnly = crowded && map.getZoom() < CROWDED_MIN_ZOOM;
  const showDots = dotsOnly || !symbolsDrawn.has(map);
  if (dots && dots.visible !== showDots) {
    dots.visible = showDots;
    map.triggerRepaint();
  }
  let symbols = "all";
  let box = null;
  if (crowded) {
    symbols = dotsOnly ? "none" : "box";
    if (!dotsOnly) {
      const view = map.getBounds();
      const width = view.getEast() - view.getWest();
      const height = view.getNorth() - view.getSouth();
      box = [view.getWest() - width / 2, view.getSouth() - height / 2, view.getEast() + width / 2, view.getNorth() + height / 2];
      const held = state.box;
      // a move inside the box held keeps it (the worker has those tracks' symbols already)
      if (state.symbols === "box" && held && view.getWest() >= held[0] && view.getSouth() >= held[1]
        && view.getEast() <= held[2] && view.getNorth() <= held[3]) return;
    }
  }
  if (symbols === state.symbols && symbols !== "box") return;
  state.symbols = symbols;
  state.box = box;
  picture.setView(symbols, box, CROWDED_TRACKS);
}

// Hand the map the sources whose content changed since the last call (at most once a frame:
// the desk calls this from requestAnimationFrame).
export function drawPicture(map, picture) {
  if (!map.getSource("tracks")) return;
  updateView(map, picture);
  const sent = sentOf.get(map) ?? new Map();
  sentOf.set(map, sent);
  for (const source of picture.takeChanges()) {
    if (source === "dots") {
      layersOf.get(map)?.dots.setTracks(picture.tracks);
      continue;
    }
    const data = picture.geoJSON(source);
    if (COMPARED_SOURCES.has(source)) {
      // an encounter.updated mostly leaves its disc where it was, and a warning's paths stay
      // empty while none is in force: no re-tiling and repaint of the map for the same features
      const text = JSON.stringify(data);
      if (sent.get(source) === text) continue;
      sent.set(source, text);
    }
    map.getSource(source).setData(data);
  }
}
