// The picture as the desk holds it: the latest report of every track, the warnings and the
// encounters. The tracks are kept by a worker (picture-worker.js): it reads GET
// /api/v1/picture?form=columns and parses every picture.updated event of GET /api/v1/events
// (docs/desk.md), and hands this page typed arrays (TrackTable) plus the GeoJSON of the tracks
// and trails where symbols are drawn. The warnings and encounters are kept here. No DOM here:
// the map and the panel read the GeoJSON and the alerts this builds.

import { deadReckon, secondsBetween } from "./format.js";

// The map's sources (layers.js): each is rebuilt only after what it shows changed; "dots" is the
// WebGL layer of every track (dots-layer.js), fed the worker's arrays as they are.
export const SOURCES = ["tracks", "trails", "warnings", "encounters", "dots"];
// The performance mark of the first tracks the worker hands over (bench/bench_desk.py reads it).
export const FIRST_TRACKS_MARK = "parley:first-tracks";
// Warnings and encounters come in bursts: the live detector re-detects every watched pair each
// update_interval_s (5 s), a score of encounter.updated within milliseconds, then the worker's
// answers for the new ones' closest points. Each source update re-tiles in MapLibre's worker and
// repaints the whole map (a few hundred milliseconds of frames without a GPU), so the map's
// sources and the panel take a burst at once, with the next tracks the worker hands over (one
// repaint for both), or ALERTS_WAIT_MS after its first event when no tracks come. A newly raised
// warning is drawn at once.
export const ALERTS_WAIT_MS = 1100;

function point(coordinates, properties) {
  return { type: "Feature", geometry: { type: "Point", coordinates }, properties };
}

function line(coordinates, properties) {
  return { type: "Feature", geometry: { type: "LineString", coordinates }, properties };
}

function collection(features) {
  return { type: "FeatureCollection", features };
}

function midpoint(first, second) {
  return [(first[0] + second[0]) / 2, (first[1] + second[1]) / 2];
}

function orNull(value) {
  return Number.isFinite(value) ? value : null;
}

// Every track as the worker last handed it: parallel typed arrays, a row per track, plus what
// rarely changes (side, domain, type, call sign, transponder) per row. Read like a Map of
// id -> {row, trail} (size, has, get, keys, iteration) for the panels and the tests.
export class TrackTable {
  constructor() {
    this.n = 0;
    this.ids = [];
    this.index = new Map();
    this.about = [];
    this.columns = { lon: new Float64Array(0), lat: new Float64Array(0), time: new Float64Array(0),
      alt: new Float32Array(0), course: new Float32Array(0), speed: new Float32Array(0) };
    this.x = new Float32Array(0);
    this.y = new Float32Array(0);
    this.side = new Uint8Array(0);
    this.dark = new Uint8Array(0);
    this.sides = ["civil"];
    this.trails = new Map(); // id -> [[lon, lat], ...] of the tracks where symbols are drawn
  }

  get size() {
    let count = 0;
    for (let i = 0; i < this.n; i++) if (Number.isFinite(this.columns.time[i])) count++;
    return count;
  }

  has(id) {
    const i = this.index.get(id);
    return i !== undefined && Number.isFinite(this.columns.time[i]);
  }

  // The row of a track as GET /api/v1/picture gives it (time as ISO text), or null.
  row(id) {
    const i = this.index.get(id);
    if (i === undefined || !Number.isFinite(this.columns.time[i])) return null;
    const c = this.columns;
    return { track: id, time: new Date(c.time[i]).toISOString(), ...this.about[i], lat: c.lat[i],
      lon: c.lon[i], alt_m: orNull(c.alt[i]), course_deg: orNull(c.course[i]), speed_mps: orNull(c.speed[i]) };
  }

  get(id) {
    const row = this.row(id);
    if (!row) return undefined;
    const trail = this.trails.get(id) ?? [[row.lon, row.lat]];
    return { row, trail };
  }

  keys() {
    return this.ids.filter((id) => this.has(id))[Symbol.iterator]();
  }

  *[Symbol.iterator]() {
    for (const id of this.ids) if (this.has(id)) yield [id, this.get(id)];
  }

  // A "tracks" message of the worker.
  take(message) {
    if (message.reset) {
      this.ids = [];
      this.index = new Map();
      this.about = [];
    }
    for (const [i, id, about] of message.about) {
      this.ids[i] = id;
      this.index.set(id, i);
      this.about[i] = about;
    }
    this.n = message.n;
    this.columns = message.columns;
    this.x = message.x;
    this.y = message.y;
    this.side = message.side;
    this.dark = message.dark;
    this.sides = message.sides;
    this.trails = new Map(message.features.trails.map((f) => [f.properties.id, f.geometry.coordinates]));
  }
}

export class Picture {
  constructor() {
    this.tracks = new TrackTable();
    this.warnings = new Map(); // warning id -> {event, state, received}
    this.encounters = new Map(); // live id -> {record, state, time, position}
    this.time = null;
    this.features = { tracks: [], trails: [] }; // the worker's GeoJSON where symbols are drawn
    this.changed = new Set(SOURCES); // the sources to rebuild (layers.js drawPicture clears it)
    this.alertsVersion = 0; // counts changes of the warnings' and encounters' list (the panel's)
    this.alertsPending = new Set(); // sources changed by alerts not yet handed on (a burst)
    this.alertsTimer = null;
    this.onChange = () => {};
    this.onError = () => {};
    this.loaded = false;
    this.worker = new Worker(new URL("./picture-worker.js", import.meta.url), { type: "module" });
    this.worker.onmessage = (message) => this.#received(message.data);
    this.nearestWanted = new Map(); // request key -> live id of the encounter
    this.requests = 0;
  }

  // The desk's config (the worker names the leader images by this desk's party).
  configure(config) {
    this.worker.postMessage({ kind: "config", config });
  }

  // Read the snapshot again (GET /api/v1/picture?form=columns, in the worker).
  reload() {
    this.worker.postMessage({ kind: "load" });
  }

  // The text of a picture.updated event, parsed in the worker.
  updateTracks(data) {
    this.worker.postMessage({ kind: "event", data });
  }

  // Where the map draws symbols: "all" (but none from `limit` tracks on: the map switches to
  // dots), "none", or "box" with [west, south, east, north].
  setView(symbols, box = null, limit = Infinity) {
    this.worker.postMessage({ kind: "view", symbols, box, limit });
  }

  // The sources changed since the last call, forgotten (their GeoJSON is built by geoJSON()).
  takeChanges() {
    const changed = [...this.changed];
    this.changed.clear();
    return changed;
  }

  geoJSON(source) {
    if (source === "tracks") return collection(this.features.tracks);
    if (source === "trails") return collection(this.features.trails);
    if (source === "warnings") return this.warningsGeoJSON();
    return this.encountersGeoJSON();
  }

  // The features of the symbols' source (tests read it): the tracks where symbols are drawn.
  tracksGeoJSON() {
    return collection(this.features.tracks);
  }

  #received(message) {
    if (message.kind === "tracks") {
      if (message.n > 0 && this.tracks.n === 0) performance.mark(FIRST_TRACKS_MARK);
      this.tracks.take(message);
      this.#flushAlerts();
      // the symbols' sources only when they held or now hold something (an empty setData still
      // costs the map's worker and a repaint)
      const symbols = this.features.tracks.length + message.features.tracks.length > 0;
      this.features = message.features;
      this.time = message.time ?? this.time;
      this.changed.add("dots");
      if (symbols) this.changed.add("tracks").add("trails");
      if (this.warnings.size > 0) this.changed.add("warnings"); // their paths start at the tracks
      // an event named tracks this page was never told about (missed events): read it all again
      if (message.unknown > 0 && this.loaded && !this.reloading) {
        this.reloading = true;
        setTimeout(() => { this.reloading = false; this.reload(); }, 1000);
      }
    } else if (message.kind === "snapshot") {
      this.load(message);
    } else if (message.kind === "nearest") {
      const id = this.nearestWanted.get(message.key);
      this.nearestWanted.delete(message.key);
      const held = this.encounters.get(id);
      if (held && message.position && !held.position) {
        held.position = message.position;
        this.#alertChanged("encounters");
      }
    } else if (message.kind === "error") {
      this.onError(message.message);
    }
    this.onChange();
  }

  // The warnings and encounters of a snapshot (its tracks went to the worker's table).
  load(snapshot) {
    this.loaded = true;
    this.warnings.clear();
    for (const warning of snapshot.warnings ?? []) this.warning(warning);
    for (const [id, held] of this.encounters) if (held.state !== "closed") this.encounters.delete(id);
    for (const record of snapshot.encounters ?? []) {
      this.encounter({ type: "encounter.updated", live_id: record.id, time: record.end, encounter: record });
    }
    this.time = snapshot.time ?? this.time;
    for (const source of SOURCES) this.changed.add(source);
    this.alertsVersion++;
  }

  // A warning.raised / .updated / .withdrawn payload (WarningEvent.to_json()).
  warning(event) {
    const state = event.type === "warning.withdrawn" ? "withdrawn" : "active";
    const held = this.warnings.get(event.id);
    this.warnings.set(event.id, { event, state, first: held?.first ?? event.time });
    this.#alertChanged("warnings");
    // a new warning is what the officer must see first: drawn at once, with what is pending
    if (event.type === "warning.raised") {
      this.#flushAlerts();
      this.onChange();
    }
  }

  // An encounter.opened / .updated / .closed payload (EncounterEvent.to_json()).
  encounter(event) {
    const record = event.encounter;
    const held = this.encounters.get(event.live_id);
    const state = event.type === "encounter.closed" ? "closed" : "open";
    const position = this.#recordPosition(record) ?? held?.position ?? null;
    this.encounters.set(event.live_id, { record, state, first: held?.first ?? record.start, position });
    if (!position) this.#askNearest(event.live_id, record);
    this.#alertChanged("encounters");
  }

  // A change of the warnings or encounters, handed on with the rest of its burst (see
  // ALERTS_WAIT_MS): the sources to rebuild and the panel's version.
  #alertChanged(source) {
    this.alertsPending.add(source);
    if (this.alertsTimer !== null) return;
    this.alertsTimer = setTimeout(() => {
      this.#flushAlerts();
      this.onChange();
    }, ALERTS_WAIT_MS);
  }

  #flushAlerts() {
    if (this.alertsPending.size === 0) return;
    clearTimeout(this.alertsTimer);
    this.alertsTimer = null;
    for (const source of this.alertsPending) this.changed.add(source);
    this.alertsPending.clear();
    this.alertsVersion++;
  }

  // The closest point: the record's own when it has one; else (#askNearest) the midpoint of both
  // tracks at the moment of closest approach, where their trails (in the worker) put them.
  #recordPosition(record) {
    if (Number.isFinite(record.cpa_lon) && Number.isFinite(record.cpa_lat)) return [record.cpa_lon, record.cpa_lat];
    return null;
  }

  #askNearest(liveId, record) {
    const key = ++this.requests;
    this.nearestWanted.set(key, liveId);
    const ms = new Date(record.cpa_time).getTime();
    this.worker.postMessage({ kind: "nearest", key, a: record.a, b: record.b, ms });
  }

  // Where a track will be at `iso` if it holds course and speed (never extrapolated backwards).
  predicted(trackId, iso) {
    const row = this.tracks.row(trackId);
    if (!row) return null;
    const seconds = Math.max(0, secondsBetween(row.time, iso));
    return deadReckon(row.lon, row.lat, row.course_deg, row.speed_mps, seconds);
  }

  warningGeometry(event) {
    const a = this.predicted(event.a, event.predicted_cpa_time);
    const b = this.predicted(event.b, event.predicted_cpa_time);
    if (!a || !b) return null;
    return { a, b, cpa: midpoint(a, b) };
  }

  warningsGeoJSON() {
    const features = [];
    for (const [id, { event, state }] of this.warnings) {
      if (state !== "active") continue;
      const geometry = this.warningGeometry(event);
      if (!geometry) continue;
      const properties = { id, severity: event.severity };
      for (const track of [event.a, event.b]) {
        const row = this.tracks.row(track);
        const end = track === event.a ? geometry.a : geometry.b;
        features.push(line([[row.lon, row.lat], end], { ...properties, part: "path" }));
      }
      features.push(line([geometry.a, geometry.b], { ...properties, part: "cpa" }));
      features.push(point(geometry.cpa, { ...properties, part: "cpa" }));
    }
    return collection(features);
  }

  encountersGeoJSON() {
    const features = [];
    for (const [id, { record, state, position }] of this.encounters) {
      if (!position) continue;
      features.push(point(position, { id, severity: record.severity, state }));
    }
    return collection(features);
  }

  // Warnings and encounters for the panel, the most recently raised first (an update does not
  // move an item: the list stays where the officer's eye left it).
  alerts() {
    const items = [];
    for (const [id, { event, state, first }] of this.warnings) {
      const geometry = state === "active" ? this.warningGeometry(event) : null;
      items.push({ key: `warning:${id}`, kind: "warning", id, state, time: first, severity: event.severity,
        pairKind: event.kind, a: event.a, b: event.b, distance: event.predicted_cpa_m,
        seconds: event.time_to_cpa_s, position: geometry?.cpa ?? null });
    }
    for (const [id, { record, state, position, first }] of this.encounters) {
      items.push({ key: `encounter:${id}`, kind: "encounter", id, state, time: first,
        severity: record.severity, pairKind: record.kind, a: record.a, b: record.b,
        distance: record.kind === "air-air" ? record.min_slant_m : record.min_horizontal_m,
        cpaTime: record.cpa_time, position });
    }
    return items.sort((x, y) => new Date(y.time).getTime() - new Date(x.time).getTime());
  }
}
