// Track symbols: APP-6 / MIL-STD-2525C frames and icons drawn by milsymbol, one image per
// (side, domain, type category, dark) that the map asks for, never one per track; so 10,000
// tracks cost a few dozen images. The standard identity is the desk's own view: our party's
// tracks are friend (blue rectangle or dome), the peer party's hostile (red diamond), civil
// traffic neutral (green square), any other party unknown (yellow). Frames stay upright as the
// standard wants; the course is a leader line from the symbol's centre (its own layer, turned by
// the map). A dark track (transponder off) is drawn unfilled inside a broken ring.

import "../vendor/milsymbol.js"; // a one-file (UMD) build: it defines globalThis.ms
import { session } from "./api.js";
import { iconName, lineKey as lineKeyOf, typeCategory } from "./symbol-names.js";

export { iconName, typeCategory };

const ms = globalThis.ms;

export const SEVERITY_COLOURS = {
  "high-risk": "#ff453a",
  serious: "#ff9f0a",
  routine: "#ffd60a",
  "inside-volume": "#bf5af2",
};
// Trails and leader lines, in the hue of each standard identity, and civilian purple for civil
// traffic as milsymbol fills its civilian icons (brighter, for thin lines on the dark sea).
export const LINE_COLOURS = {
  friend: "#4c8dff", hostile: "#ff5c5c", neutral: "#6fd08c", unknown: "#ffd60a", civilian: "#d08cff",
};
const IDENTITY_LETTERS = { friend: "F", hostile: "H", neutral: "N", unknown: "U" };
const PIXEL_RATIO = 2;
const SYMBOL_SIZE = 15; // milsymbol's size: the frame's width in CSS pixels is about 1.5× this
const CIVIL_SIZE = 11; // civil traffic, smaller: the parties' tracks are what the desk watches
const LEADER_PIXELS = 26; // CSS pixels from the symbol's centre to the leader's tip
const OUTLINE = "#0b1a29";

// Category -> the function id (letter SIDC characters 5-10) in MIL-STD-2525C / APP-6(B).
const AIR_FUNCTIONS = {
  rotary: "MH----", uav: "MFQ---", reconnaissance: "MFR---", tanker: "MFK---", bomber: "MFB---",
  attack: "MFA---", fighter: "MFF---", transport: "MFC---", military: "MF----", civil: "CF----",
  "civil-rotary": "CH----",
};
const SEA_FUNCTIONS = {
  submarine: "S-----", carrier: "CLCV--", destroyer: "CLDD--", frigate: "CLFF--",
  patrol: "CP----", combatant: "C-----", fishing: "XF----", passenger: "XMP---", tanker: "XMO---",
  merchant: "XM----", tug: "XMTU--", leisure: "XR----", civil: "X-----", military: "C-----",
};

// The standard identity of a side as this desk sees it.
export function identity(side) {
  const config = session.config ?? {};
  if (!side || side === "civil") return "neutral";
  if (side === config.party) return "friend";
  if (side === config.peer_party) return "hostile";
  return "unknown";
}

function lineKey(side) {
  return lineKeyOf(side, session.config);
}

export function sideColour(side) {
  return LINE_COLOURS[lineKey(side)];
}

export function leaderName(side) {
  return `leader|${lineKey(side)}`;
}

// The 15-character letter SIDC: S(warfighting), identity, dimension (A air / S sea surface / U
// subsurface), P(resent), function id, no modifiers.
export function sidc(domain, side, category) {
  const letter = IDENTITY_LETTERS[identity(side)];
  if (domain === "air") return `S${letter}AP${AIR_FUNCTIONS[category] ?? AIR_FUNCTIONS.military}-----`;
  const dimension = category === "submarine" ? "U" : "S";
  return `S${letter}${dimension}P${SEA_FUNCTIONS[category] ?? SEA_FUNCTIONS.military}-----`;
}

// milsymbol's canvas, centred on the symbol's anchor (its frame's centre) so the map can centre
// the image on the track's position.
function drawSymbol(name) {
  const [, domain, side, category, state] = name.split("|");
  const dark = state === "dark";
  const symbol = new ms.Symbol(sidc(domain, side, category), {
    size: side === "civil" ? CIVIL_SIZE : SYMBOL_SIZE,
    fill: !dark,
    outlineWidth: dark ? 0 : 3,
    outlineColor: OUTLINE,
    // unfilled, a frame in the dark sea's colour would vanish: the line colour instead
    frameColor: dark ? sideColour(side) : OUTLINE,
    iconColor: dark ? sideColour(side) : undefined,
  });
  const drawn = symbol.asCanvas(PIXEL_RATIO);
  const anchor = symbol.getAnchor();
  const half = Math.ceil(PIXEL_RATIO * Math.max(anchor.x, anchor.y, symbol.getSize().width - anchor.x, symbol.getSize().height - anchor.y)) + 6 * PIXEL_RATIO;
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = 2 * half;
  const context = canvas.getContext("2d");
  context.drawImage(drawn, half - anchor.x * PIXEL_RATIO, half - anchor.y * PIXEL_RATIO);
  if (dark) {
    context.setLineDash([3 * PIXEL_RATIO, 2 * PIXEL_RATIO]);
    context.lineWidth = 1.5 * PIXEL_RATIO;
    context.strokeStyle = sideColour(side);
    context.beginPath();
    context.arc(half, half, half - PIXEL_RATIO, 0, 2 * Math.PI);
    context.stroke();
  }
  return context.getImageData(0, 0, canvas.width, canvas.height);
}

// A line from the image's bottom (the track: the layer anchors the image there and turns it
// about that point to the course) up to an arrowhead at its top. A narrow image: 10,000 of them
// cost little more than their pixels.
function drawLeader(name) {
  const [, which] = name.split("|");
  const length = LEADER_PIXELS * PIXEL_RATIO;
  const half = 4 * PIXEL_RATIO;
  const canvas = document.createElement("canvas");
  canvas.width = 2 * half;
  canvas.height = length;
  const context = canvas.getContext("2d");
  const tip = PIXEL_RATIO;
  context.strokeStyle = LINE_COLOURS[which] ?? LINE_COLOURS.unknown;
  context.fillStyle = context.strokeStyle;
  context.lineWidth = 1.6 * PIXEL_RATIO;
  context.beginPath();
  context.moveTo(half, length);
  context.lineTo(half, tip + 4 * PIXEL_RATIO);
  context.stroke();
  context.beginPath();
  context.moveTo(half, tip);
  context.lineTo(half + 3.5 * PIXEL_RATIO, tip + 7 * PIXEL_RATIO);
  context.lineTo(half - 3.5 * PIXEL_RATIO, tip + 7 * PIXEL_RATIO);
  context.closePath();
  context.fill();
  return context.getImageData(0, 0, canvas.width, canvas.height);
}

// Draw an image when the map first asks for it (MapLibre waits for the resolver), and keep the
// SIDC of each for the tests and the curious (window.parleySymbols).
export const drawn = new Map(); // image name -> SIDC (or "leader")

export function installSymbols(map) {
  map.setMissingStyleImageResolver((id) => {
    if (map.hasImage(id)) return;
    if (id.startsWith("track|")) {
      map.addImage(id, drawSymbol(id), { pixelRatio: PIXEL_RATIO });
      const [, domain, side, category] = id.split("|");
      drawn.set(id, sidc(domain, side, category));
    } else if (id.startsWith("leader|")) {
      map.addImage(id, drawLeader(id), { pixelRatio: PIXEL_RATIO });
      drawn.set(id, "leader");
    }
  });
  window.parleySymbols = drawn;
}
