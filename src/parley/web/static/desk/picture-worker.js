// The picture's tracks, kept off the page's main thread (a module worker, started by picture.js).
// It reads the snapshot (GET /api/v1/picture?form=columns) and parses every picture.updated event
// (the columnar form, docs/live.md), keeps each track's latest report and trail, and hands the
// page ready typed arrays (transferred, not copied): positions and fields for the page's own use,
// Web Mercator coordinates and a colour per track for the dots layer (dots-layer.js), and, for the
// part of the map where symbols are drawn, the GeoJSON of those tracks and their trails.
//
// In:  {kind: "config", config}                the desk's config (party, peer_party)
//      {kind: "load"}                          read the snapshot again (replaces every track)
//      {kind: "event", data}                   the text of a picture.updated event
//      {kind: "view", symbols, box, limit}     symbols: "box" (box: [west, south, east, north]),
//                                              "none", or "all" (none from `limit` tracks on)
//      {kind: "nearest", key, a, b, ms}        where the trails put tracks a and b at ms
// Out: {kind: "tracks", ...}                   after every change (see post())
//      {kind: "snapshot", time, warnings, encounters}
//      {kind: "nearest", key, position}
//      {kind: "error", message}

import { iconName, leaderName } from "./symbol-names.js";

const WIRE_VERSION = 2;
// A trail keeps a point every TRAIL_STEP_MS at most (the newest report is always its head), so
// ten minutes of a track reporting every second cost 21 points, not 600.
const TRAIL_POINTS = 21;
const TRAIL_MS = 600_000;
const TRAIL_STEP_MS = 30_000;
const ABOUT = ["side", "domain", "type", "callsign", "transponder"];

const state = {
  config: {},
  ids: [],
  index: new Map(), // id -> row index
  capacity: 0,
  lon: new Float64Array(0),
  lat: new Float64Array(0),
  time: new Float64Array(0),
  alt: new Float32Array(0),
  course: new Float32Array(0),
  speed: new Float32Array(0),
  about: [], // per row: {side, domain, type, callsign, transponder}
  trails: [], // per row: [lon, lat, ms, lon, lat, ms, ...]
  sides: ["civil"], // side code -> side ("civil" is 0)
  time_iso: null,
  unknown: 0, // rows of events that came without an "about" the worker had
  view: { symbols: "none", box: null },
  newRows: [], // rows added or re-described since the last post: [index, id, about]
  reset: true,
  loading: null,
};

function grow(needed) {
  if (needed <= state.capacity) return;
  const capacity = Math.max(1024, needed * 2);
  for (const name of ["lon", "lat", "time", "alt", "course", "speed"]) {
    const bigger = new state[name].constructor(capacity);
    bigger.set(state[name]);
    state[name] = bigger;
  }
  state.capacity = capacity;
}

function rowOf(id) {
  let i = state.index.get(id);
  if (i !== undefined) return i;
  i = state.ids.length;
  grow(i + 1);
  state.ids.push(id);
  state.index.set(id, i);
  state.about.push({ side: null, domain: null, type: null, callsign: null, transponder: null, known: false });
  state.trails.push([]);
  state.time[i] = -Infinity;
  state.newRows.push(i);
  return i;
}

function sideCode(side) {
  const name = side || "civil";
  let code = state.sides.indexOf(name);
  if (code < 0) code = state.sides.push(name) - 1;
  return code;
}

function number(value) {
  return value === null || value === undefined ? NaN : value;
}

// One columnar payload (snapshot or event) into the state.
function apply(columns) {
  if (!columns) return;
  if (columns.v !== WIRE_VERSION) throw new Error(`picture form v=${columns.v}, expected ${WIRE_VERSION}`);
  const epoch = Date.parse(columns.time);
  const about = columns.about ?? {};
  const { ids, age_ms, lat, lon, alt_m, course_deg, speed_mps } = columns;
  for (let k = 0; k < ids.length; k++) {
    const id = ids[k];
    const i = rowOf(id);
    const told = about[id];
    if (told) {
      const held = state.about[i];
      for (const name of ABOUT) held[name] = told[name] ?? null;
      held.known = true;
      state.newRows.push(i);
    } else if (!state.about[i].known) {
      state.unknown++;
    }
    if (lat[k] === null || lon[k] === null) continue;
    const ms = epoch - age_ms[k];
    trail(i, lon[k], lat[k], ms);
    if (ms < state.time[i]) continue; // an older report than the one held
    state.lon[i] = lon[k];
    state.lat[i] = lat[k];
    state.time[i] = ms;
    state.alt[i] = number(alt_m[k]);
    state.course[i] = number(course_deg[k]);
    state.speed[i] = number(speed_mps[k]);
  }
  if (columns.time && (!state.time_iso || columns.time > state.time_iso)) state.time_iso = columns.time;
}

function trail(i, lon, lat, ms) {
  const points = state.trails[i];
  const n = points.length;
  const last = n >= 3 ? points[n - 1] : -Infinity;
  if (ms > last) {
    // the head moves until it is a step past the point before it, which then stays
    const kept = n >= 6 ? points[n - 4] : -Infinity;
    if (n >= 3 && ms - kept < TRAIL_STEP_MS) points.splice(n - 3, 3, lon, lat, ms);
    else points.push(lon, lat, ms);
  }
  while (points.length > 3 * TRAIL_POINTS || (points.length > 3 && ms - points[2] > TRAIL_MS)) points.splice(0, 3);
}

// Keep only the rows of `keep` (a snapshot lists every track the node holds).
function keepOnly(keep) {
  const old = { ...state, ids: state.ids, about: state.about, trails: state.trails };
  const columns = ["lon", "lat", "time", "alt", "course", "speed"].map((name) => [name, state[name]]);
  state.ids = [];
  state.index = new Map();
  state.about = [];
  state.trails = [];
  state.capacity = 0;
  for (const [name, array] of columns) state[name] = new array.constructor(0);
  for (let i = 0; i < old.ids.length; i++) {
    if (!keep.has(old.ids[i])) continue;
    const j = rowOf(old.ids[i]);
    for (const [name, array] of columns) state[name][j] = array[i];
    state.about[j] = old.about[i];
    state.trails[j] = old.trails[i];
  }
  state.reset = true;
}

// Mercator x, y in 0..1 (MapLibre's world), as the dots layer wants them.
function mercator(n) {
  const x = new Float32Array(n);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    x[i] = (state.lon[i] + 180) / 360;
    const phi = (Math.max(-85.05, Math.min(85.05, state.lat[i])) * Math.PI) / 180;
    y[i] = (1 - Math.log(Math.tan(Math.PI / 4 + phi / 2)) / Math.PI) / 2;
  }
  return { x, y };
}

function inView(i) {
  const { symbols, box } = state.view;
  if (symbols === "all") return true;
  if (symbols !== "box" || !box) return false;
  const lon = state.lon[i];
  const lat = state.lat[i];
  return lon >= box[0] && lat >= box[1] && lon <= box[2] && lat <= box[3];
}

// The GeoJSON of the tracks where symbols are drawn, and of their trails.
function features() {
  const { symbols, limit } = state.view;
  if (symbols === "none" || (symbols === "all" && state.ids.length >= limit)) return { tracks: [], trails: [] };
  const tracks = [];
  const trails = [];
  for (let i = 0; i < state.ids.length; i++) {
    if (!Number.isFinite(state.time[i]) || !inView(i)) continue;
    const id = state.ids[i];
    const { side, domain, type, transponder } = state.about[i];
    const dark = transponder === "off";
    tracks.push({
      type: "Feature",
      geometry: { type: "Point", coordinates: [state.lon[i], state.lat[i]] },
      properties: {
        id, side: side ?? "civil", domain, dark,
        icon: iconName(domain, side, type, dark),
        leader: leaderName(side, state.config),
        course: Number.isFinite(state.course[i]) ? state.course[i] : 0,
        speed: Number.isFinite(state.speed[i]) ? state.speed[i] : 0,
      },
    });
    const points = state.trails[i];
    if (points.length < 6) continue;
    const coordinates = [];
    for (let p = 0; p < points.length; p += 3) coordinates.push([points[p], points[p + 1]]);
    trails.push({ type: "Feature", geometry: { type: "LineString", coordinates }, properties: { id, side: side ?? "civil" } });
  }
  return { tracks, trails };
}

// Hand the page the whole table (typed arrays, transferred) and what it does not know yet.
function post() {
  const n = state.ids.length;
  const slice = (name) => state[name].slice(0, n);
  const columns = { lon: slice("lon"), lat: slice("lat"), time: slice("time"), alt: slice("alt"),
    course: slice("course"), speed: slice("speed") };
  const { x, y } = mercator(n);
  const side = new Uint8Array(n);
  const dark = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    side[i] = sideCode(state.about[i].side);
    dark[i] = state.about[i].transponder === "off" ? 1 : 0;
  }
  const described = state.reset ? [...state.ids.keys()] : [...new Set(state.newRows)];
  const about = described.map((i) => [i, state.ids[i], strip(state.about[i])]);
  const message = {
    kind: "tracks", n, reset: state.reset, about, columns, x, y, side, dark, sides: state.sides,
    time: state.time_iso, unknown: state.unknown, features: features(),
  };
  state.reset = false;
  state.newRows = [];
  const transfer = [...Object.values(columns), x, y, side, dark].map((array) => array.buffer);
  postMessage(message, transfer);
}

function strip({ side, domain, type, callsign, transponder }) {
  return { side, domain, type, callsign, transponder };
}

async function load() {
  const response = await fetch("/api/v1/picture?form=columns", { credentials: "same-origin" });
  if (!response.ok) throw new Error(`GET /api/v1/picture: ${response.status}`);
  const snapshot = await response.json();
  const columns = snapshot.columns;
  keepOnly(new Set(columns?.ids ?? []));
  apply(columns);
  state.unknown = 0;
  post();
  postMessage({ kind: "snapshot", time: snapshot.time, warnings: snapshot.warnings ?? [], encounters: snapshot.encounters ?? [] });
}

// Where the trail puts a track at `ms`: between the two points around it, or its nearest end.
function nearest(id, ms) {
  const i = state.index.get(id);
  if (i === undefined) return null;
  const p = state.trails[i];
  if (p.length === 0) return null;
  if (ms <= p[2]) return [p[0], p[1]];
  for (let k = 3; k < p.length; k += 3) {
    if (ms > p[k + 2]) continue;
    const f = (ms - p[k - 1]) / (p[k + 2] - p[k - 1]);
    return [p[k - 3] + f * (p[k] - p[k - 3]), p[k - 2] + f * (p[k + 1] - p[k - 2])];
  }
  return [p[p.length - 3], p[p.length - 2]];
}

function midpoint(a, b) {
  if (!a || !b) return a ?? b ?? null;
  return [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2];
}

function report(error) {
  postMessage({ kind: "error", message: String(error?.message ?? error) });
}

self.onmessage = (message) => {
  const request = message.data;
  try {
    if (request.kind === "config") {
      state.config = request.config ?? {};
    } else if (request.kind === "load") {
      load().catch(report);
    } else if (request.kind === "event") {
      apply(JSON.parse(request.data).payload);
      post();
    } else if (request.kind === "view") {
      state.view = { symbols: request.symbols, box: request.box ?? null, limit: request.limit ?? Infinity };
      post();
    } else if (request.kind === "nearest") {
      const position = midpoint(nearest(request.a, request.ms), nearest(request.b, request.ms));
      postMessage({ kind: "nearest", key: request.key, position });
    }
  } catch (error) {
    report(error);
  }
};
