// The officers' API as the page calls it, and who is signed in: shared by every part of the desk.

export const API = "/api/v1";

// config: GET /desk/config.json; user: {name, role} once signed in.
export const session = { config: null, user: null };

export async function api(path, options = {}) {
  return fetch(`${API}${path}`, {
    credentials: "same-origin",
    headers: { "Content-Type": "application/json" },
    ...options,
  });
}

// A POST with a JSON body; resolves to {ok, body} (body: the answer, or the refusal's detail).
export async function post(path, body = {}) {
  let response;
  try {
    response = await api(path, { method: "POST", body: JSON.stringify(body) });
  } catch {
    return { ok: false, body: null };
  }
  const answer = await response.json().catch(() => null);
  return { ok: response.ok, body: response.ok ? answer : (answer?.detail ?? response.statusText) };
}

// GET that resolves to the JSON answer, or null (refused, unreachable).
export async function getJSON(path) {
  const response = await api(path).catch(() => null);
  if (!response || !response.ok) return null;
  return response.json();
}

// Whether the signed-in role may do an action (the page leaves out what it may not).
export function may(action) {
  const allowed = session.config?.permissions?.[session.user?.role] ?? [];
  return allowed.includes(action);
}
