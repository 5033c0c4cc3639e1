// Track symbols drawn in the page (no sprite file is fetched): colour by side, shape by domain
// (air: an arrowhead; sea: a hull), both pointing north and turned to the course by the map.
// A dark track (transponder off) is drawn hollow with a broken outline.

export const SIDE_COLOURS = { nato: "#4c8dff", russia: "#ff5c5c", civil: "#b0b7c0" };
const OTHER_SIDE_COLOUR = "#c79bff";
export const SEVERITY_COLOURS = {
  "high-risk": "#ff453a",
  serious: "#ff9f0a",
  routine: "#ffd60a",
  "inside-volume": "#bf5af2",
};
const PIXEL_RATIO = 2;
const SIZE = 26; // CSS pixels

export function sideColour(side) {
  return SIDE_COLOURS[side] ?? OTHER_SIDE_COLOUR;
}

// The image name a track uses; symbols.js draws any such name on demand.
export function iconName(domain, side, dark) {
  return `track|${domain === "air" ? "air" : "sea"}|${side || "civil"}|${dark ? "dark" : "on"}`;
}

function outline(context, domain, s) {
  context.beginPath();
  if (domain === "air") {
    context.moveTo(s * 0.5, s * 0.08);
    context.lineTo(s * 0.84, s * 0.86);
    context.lineTo(s * 0.5, s * 0.68);
    context.lineTo(s * 0.16, s * 0.86);
  } else {
    context.moveTo(s * 0.5, s * 0.08);
    context.lineTo(s * 0.72, s * 0.36);
    context.lineTo(s * 0.72, s * 0.9);
    context.lineTo(s * 0.28, s * 0.9);
    context.lineTo(s * 0.28, s * 0.36);
  }
  context.closePath();
}

function draw(name) {
  const [, domain, side, state] = name.split("|");
  const pixels = SIZE * PIXEL_RATIO;
  const canvas = document.createElement("canvas");
  canvas.width = pixels;
  canvas.height = pixels;
  const context = canvas.getContext("2d");
  const colour = sideColour(side);
  outline(context, domain, pixels);
  context.lineJoin = "round";
  if (state === "dark") {
    context.setLineDash([4 * PIXEL_RATIO, 3 * PIXEL_RATIO]);
    context.lineWidth = 2.2 * PIXEL_RATIO;
    context.strokeStyle = colour;
    context.stroke();
  } else {
    context.fillStyle = colour;
    context.fill();
    context.lineWidth = 1.2 * PIXEL_RATIO;
    context.strokeStyle = "#0b1a29";
    context.stroke();
  }
  return context.getImageData(0, 0, pixels, pixels);
}

// Draw track icons when the map first asks for them (MapLibre waits for the resolver).
export function installSymbols(map) {
  map.setMissingStyleImageResolver((id) => {
    if (!id.startsWith("track|") || map.hasImage(id)) return;
    map.addImage(id, draw(id), { pixelRatio: PIXEL_RATIO });
  });
}
