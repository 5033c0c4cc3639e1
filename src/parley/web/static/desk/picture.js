// The picture as the desk holds it: the latest report of every track with a short trail, the
// warnings and the encounters. Filled from GET /api/v1/picture, then kept up to date by the
// events of GET /api/v1/events (picture.updated, warning.*, encounter.*; docs/desk.md).
// No DOM here: the map and the panel read the GeoJSON and the alerts this builds.

import { deadReckon, secondsBetween } from "./format.js";
import { iconName, leaderName } from "./symbols.js";

// A trail keeps a point every TRAIL_STEP_MS at most (the newest report is always its head), so
// ten minutes of a track reporting every second cost 21 points, not 600.
const TRAIL_POINTS = 21;
const TRAIL_SECONDS = 600;
const TRAIL_STEP_MS = 30_000;
// The GeoJSON sources the map draws (layers.js): each is rebuilt only after what it shows changed.
export const SOURCES = ["tracks", "trails", "warnings", "encounters"];

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

export class Picture {
  constructor() {
    this.tracks = new Map(); // track id -> {row, trail: [[lon, lat, ms]]}
    this.warnings = new Map(); // warning id -> {event, state, received}
    this.encounters = new Map(); // live id -> {record, state, time, position}
    this.time = null;
    this.changed = new Set(SOURCES); // the sources to rebuild (layers.js drawPicture clears it)
  }

  // The sources changed since the last call, forgotten (their GeoJSON is built by geoJSON()).
  takeChanges() {
    const changed = [...this.changed];
    this.changed.clear();
    return changed;
  }

  geoJSON(source) {
    if (source === "tracks") return this.tracksGeoJSON();
    if (source === "trails") return this.trailsGeoJSON();
    if (source === "warnings") return this.warningsGeoJSON();
    return this.encountersGeoJSON();
  }

  // Replace everything with a snapshot of GET /api/v1/picture (trails of known tracks stay).
  load(snapshot) {
    const seen = new Set();
    for (const row of snapshot.tracks ?? []) {
      this.#track(row);
      seen.add(row.track);
    }
    for (const id of [...this.tracks.keys()]) if (!seen.has(id)) this.tracks.delete(id);
    for (const source of SOURCES) this.changed.add(source);
    this.warnings.clear();
    for (const warning of snapshot.warnings ?? []) this.warning(warning);
    for (const [id, held] of this.encounters) if (held.state !== "closed") this.encounters.delete(id);
    for (const record of snapshot.encounters ?? []) {
      this.encounter({ type: "encounter.updated", live_id: record.id, time: record.end, encounter: record });
    }
    this.time = snapshot.time ?? this.time;
  }

  // A picture.updated event: the tracks that moved.
  updateTracks(payload) {
    const rows = payload.tracks ?? [];
    for (const row of rows) this.#track(row);
    if (payload.time) this.time = payload.time;
    if (rows.length === 0) return;
    this.changed.add("tracks").add("trails");
    if (this.warnings.size > 0) this.changed.add("warnings"); // their paths start at the tracks
  }

  #track(row) {
    if (row.lat === null || row.lon === null || row.lat === undefined) return;
    const held = this.tracks.get(row.track) ?? { row, trail: [] };
    const ms = Date.parse(row.time);
    const trail = held.trail;
    const last = trail.at(-1);
    if (!last || ms > last[2]) {
      // the head moves until it is a step past the point before it, which then stays
      const kept = trail.at(-2);
      if (kept && ms - kept[2] < TRAIL_STEP_MS) trail[trail.length - 1] = [row.lon, row.lat, ms];
      else trail.push([row.lon, row.lat, ms]);
    }
    while (held.trail.length > TRAIL_POINTS || (held.trail.length > 1 && ms - held.trail[0][2] > TRAIL_SECONDS * 1000)) {
      held.trail.shift();
    }
    if (!last || ms >= last[2]) held.row = row;
    this.tracks.set(row.track, held);
  }

  // A warning.raised / .updated / .withdrawn payload (WarningEvent.to_json()).
  warning(event) {
    const state = event.type === "warning.withdrawn" ? "withdrawn" : "active";
    const held = this.warnings.get(event.id);
    this.warnings.set(event.id, { event, state, first: held?.first ?? event.time });
    this.changed.add("warnings");
  }

  // An encounter.opened / .updated / .closed payload (EncounterEvent.to_json()).
  encounter(event) {
    const record = event.encounter;
    const held = this.encounters.get(event.live_id);
    const state = event.type === "encounter.closed" ? "closed" : "open";
    const position = this.#encounterPosition(record) ?? held?.position ?? null;
    this.encounters.set(event.live_id, { record, state, first: held?.first ?? record.start, position });
    this.changed.add("encounters");
  }

  // The closest point: the record's own when it has one, else the midpoint of both tracks at
  // the moment of closest approach (their trail points nearest that time).
  #encounterPosition(record) {
    if (Number.isFinite(record.cpa_lon) && Number.isFinite(record.cpa_lat)) return [record.cpa_lon, record.cpa_lat];
    const when = new Date(record.cpa_time).getTime();
    const a = this.#nearest(record.a, when);
    const b = this.#nearest(record.b, when);
    if (!a || !b) return a ?? b ?? null;
    return midpoint(a, b);
  }

  // Where the trail puts a track at `ms`: between the two points around it (the trail keeps a
  // point every 30 s or so), or its nearest end.
  #nearest(trackId, ms) {
    const held = this.tracks.get(trackId);
    if (!held || held.trail.length === 0) return null;
    const trail = held.trail;
    if (ms <= trail[0][2]) return [trail[0][0], trail[0][1]];
    for (let i = 1; i < trail.length; i++) {
      const [lon1, lat1, ms1] = trail[i];
      if (ms > ms1) continue;
      const [lon0, lat0, ms0] = trail[i - 1];
      const f = (ms - ms0) / (ms1 - ms0);
      return [lon0 + f * (lon1 - lon0), lat0 + f * (lat1 - lat0)];
    }
    const last = trail.at(-1);
    return [last[0], last[1]];
  }

  // Where a track will be at `iso` if it holds course and speed (never extrapolated backwards).
  predicted(trackId, iso) {
    const held = this.tracks.get(trackId);
    if (!held) return null;
    const row = held.row;
    const seconds = Math.max(0, secondsBetween(row.time, iso));
    return deadReckon(row.lon, row.lat, row.course_deg, row.speed_mps, seconds);
  }

  warningGeometry(event) {
    const a = this.predicted(event.a, event.predicted_cpa_time);
    const b = this.predicted(event.b, event.predicted_cpa_time);
    if (!a || !b) return null;
    return { a, b, cpa: midpoint(a, b) };
  }

  tracksGeoJSON() {
    const features = [];
    for (const [id, { row }] of this.tracks) {
      const dark = row.transponder === "off";
      features.push(
        point([row.lon, row.lat], {
          id,
          side: row.side ?? "civil",
          domain: row.domain,
          dark,
          icon: iconName(row.domain, row.side, row.type, dark),
          leader: leaderName(row.side),
          course: row.course_deg ?? 0,
          speed: row.speed_mps ?? 0,
        }),
      );
    }
    return collection(features);
  }

  trailsGeoJSON() {
    const features = [];
    for (const [id, { row, trail }] of this.tracks) {
      if (trail.length < 2) continue;
      features.push(line(trail.map(([lon, lat]) => [lon, lat]), { id, side: row.side ?? "civil" }));
    }
    return collection(features);
  }

  warningsGeoJSON() {
    const features = [];
    for (const [id, { event, state }] of this.warnings) {
      if (state !== "active") continue;
      const geometry = this.warningGeometry(event);
      if (!geometry) continue;
      const properties = { id, severity: event.severity };
      for (const track of [event.a, event.b]) {
        const { row } = this.tracks.get(track);
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
