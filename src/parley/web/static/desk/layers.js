// The map's live layers: trails, warnings (paths, predicted closest points), encounters, track
// symbols and the selection ring, each fed by a GeoJSON source the desk updates every frame.

import { SEVERITY_COLOURS, SIDE_COLOURS, sideColour } from "./symbols.js";

function severityColour() {
  const pairs = Object.entries(SEVERITY_COLOURS).flat();
  return ["match", ["get", "severity"], ...pairs, "#8494a7"];
}

function sideColourExpression() {
  const pairs = Object.entries(SIDE_COLOURS).flat();
  return ["match", ["get", "side"], ...pairs, sideColour("other")];
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
  map.addLayer({ id: "tracks", type: "symbol", source: "tracks",
    layout: { "icon-image": ["get", "icon"], "icon-rotate": ["get", "course"],
      "icon-rotation-alignment": "map", "icon-allow-overlap": true, "icon-ignore-placement": true } });
  map.addLayer({ id: "selection", type: "circle", source: "selection",
    paint: { "circle-radius": 18, "circle-color": "rgba(0,0,0,0)", "circle-stroke-width": 2,
      "circle-stroke-color": "#ffffff" } });
}
