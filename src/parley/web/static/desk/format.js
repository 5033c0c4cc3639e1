// Pure helpers: times (UTC with local beside), distances, and dead reckoning on a sphere.

import { t } from "./i18n.js";

const EARTH_RADIUS_M = 6371008.8;
const KNOT_MPS = 1852 / 3600;

function pad(number) {
  return String(number).padStart(2, "0");
}

// "10:01:00Z (12:01 local)": the UTC time first, the browser's local time beside it.
export function formatTime(iso) {
  if (!iso) return "";
  const moment = new Date(iso);
  if (Number.isNaN(moment.getTime())) return String(iso);
  const utc = `${pad(moment.getUTCHours())}:${pad(moment.getUTCMinutes())}:${pad(moment.getUTCSeconds())}Z`;
  const local = `${pad(moment.getHours())}:${pad(moment.getMinutes())}`;
  return `${utc} (${local} ${t("time.local")})`;
}

// The date too, for the header clock and the picture time.
export function formatDateTime(iso) {
  const moment = new Date(iso);
  if (Number.isNaN(moment.getTime())) return "";
  const day = `${moment.getUTCFullYear()}-${pad(moment.getUTCMonth() + 1)}-${pad(moment.getUTCDate())}`;
  return `${day} ${formatTime(iso)}`;
}

export function formatDistance(metres) {
  if (metres === null || metres === undefined || Number.isNaN(metres)) return "–";
  if (metres < 2000) return `${Math.round(metres)} ${t("unit.m")}`;
  return `${(metres / 1000).toFixed(1)} ${t("unit.km")}`;
}

export function formatSpeed(mps) {
  if (mps === null || mps === undefined) return "–";
  return `${Math.round(mps / KNOT_MPS)} ${t("unit.kn")}`;
}

// Where a track will be after `seconds` on its course and speed (great circle), [lon, lat].
export function deadReckon(lon, lat, courseDeg, speedMps, seconds) {
  if (courseDeg === null || courseDeg === undefined || !speedMps || !seconds) return [lon, lat];
  const distance = (speedMps * seconds) / EARTH_RADIUS_M;
  const bearing = (courseDeg * Math.PI) / 180;
  const phi1 = (lat * Math.PI) / 180;
  const lambda1 = (lon * Math.PI) / 180;
  const phi2 = Math.asin(
    Math.sin(phi1) * Math.cos(distance) + Math.cos(phi1) * Math.sin(distance) * Math.cos(bearing),
  );
  const lambda2 =
    lambda1 +
    Math.atan2(
      Math.sin(bearing) * Math.sin(distance) * Math.cos(phi1),
      Math.cos(distance) - Math.sin(phi1) * Math.sin(phi2),
    );
  return [(lambda2 * 180) / Math.PI, (phi2 * 180) / Math.PI];
}

export function secondsBetween(fromIso, toIso) {
  return (new Date(toIso).getTime() - new Date(fromIso).getTime()) / 1000;
}
