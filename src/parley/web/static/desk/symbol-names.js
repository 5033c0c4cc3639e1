// The names of the track images (symbols.js draws them) and the type categories behind them: no
// DOM and no session here, so the picture's worker (picture-worker.js) names the images of the
// tracks it hands the map.

// Type text (AIS ship type, ADS-B type code, scenario's type) -> category, first match wins.
const AIR_CATEGORIES = [
  ["rotary", /\b(helicopter|heli|rotary|ka-?\d|mi-?\d|nh-?90|[suh]h-?60|ch-?47|merlin|lynx|wildcat)/i],
  ["uav", /\b(uav|drone|rq-?\d|mq-?\d|global ?hawk|triton|reaper|orion)/i],
  ["reconnaissance", /\b(recon|rc-?135|e-?3|e-?7|e-?8|awacs|p-?8|p-?3|il-?20|il-?38|a-?50|tu-?214r|be-?12|patrol|sigint|elint)/i],
  ["tanker", /\b(tanker|kc-?\d|mrtt|il-?78)/i],
  ["bomber", /\b(bomber|b-?1b?|b-?2|b-?52|tu-?(22|95|142|160))/i],
  ["attack", /\b(attack|su-?(24|25|34)|a-?10|tornado)/i],
  ["fighter", /\b(fighter|su-?(27|30|33|35|57)|mig-?\d|f-?(15|16|18|22|35)|f\/a-?18|typhoon|eurofighter|rafale|gripen|jas ?39)/i],
  ["transport", /\b(transport|cargo|c-?(17|130|5)|a400m?|il-?76|an-?\d|tu-?154)/i],
];
const SEA_CATEGORIES = [
  ["submarine", /\b(submarine|ssn|ssk|ssbn|kilo|akula|borei|yasen)\b/i],
  ["carrier", /\b(carrier|cvn|kuznetsov)\b/i],
  ["destroyer", /\b(destroyer|ddg)/i],
  ["frigate", /\b(frigate|corvette|ffg)/i],
  ["patrol", /\b(patrol|law ?enforcement|coast ?guard|search ?and ?rescue|sar)/i],
  ["combatant", /\b(military|warship|cruiser|navy|naval|landing|minesweeper|mine)/i],
  ["fishing", /fishing/i],
  ["passenger", /passenger|ferry|hsc/i],
  ["tanker", /tanker/i],
  ["merchant", /cargo|container|bulk|merchant/i],
  ["tug", /tug|towing|tender|pilot/i],
  ["leisure", /sailing|pleasure|yacht/i],
];
const categories = new Map(); // "domain|party?|type" -> category (type texts repeat a lot)

// The category of a track's type text; without a match, a party's track is "military" and a
// civil one "civil" (helicopters of civil operators keep their rotor).
export function typeCategory(domain, side, type) {
  const civil = !side || side === "civil";
  const key = `${domain}|${civil}|${type ?? ""}`;
  let category = categories.get(key);
  if (category !== undefined) return category;
  const table = domain === "air" ? AIR_CATEGORIES : SEA_CATEGORIES;
  category = table.find(([, pattern]) => pattern.test(type ?? ""))?.[0] ?? (civil ? "civil" : "military");
  if (civil && domain === "air") category = category === "rotary" ? "civil-rotary" : "civil";
  categories.set(key, category);
  return category;
}

// The standard identity's line colour key of a side as a desk of `config.party` sees it.
export function lineKey(side, config) {
  if (!side || side === "civil") return "civilian";
  if (side === config?.party) return "friend";
  if (side === config?.peer_party) return "hostile";
  return "unknown";
}

// The image name of a track's symbol and of its leader line (symbols.js draws any such name).
export function iconName(domain, side, type, dark) {
  const where = domain === "air" ? "air" : "sea";
  return `track|${where}|${side || "civil"}|${typeCategory(where, side, type)}|${dark ? "dark" : "on"}`;
}

export function leaderName(side, config) {
  return `leader|${lineKey(side, config)}`;
}
