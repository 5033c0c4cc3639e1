// Small helpers to build the panels' elements (text only: nothing received is parsed as HTML).

export const $ = (selector) => document.querySelector(selector);

// An element with a class (optional), text or children, and data-* attributes.
export function el(tag, { className = "", text = null, data = {}, children = [] } = {}) {
  const element = document.createElement(tag);
  if (className) element.className = className;
  if (text !== null) element.textContent = text;
  for (const [key, value] of Object.entries(data)) {
    if (value !== null && value !== undefined) element.dataset[key] = value;
  }
  element.append(...children);
  return element;
}

export function row(name, children) {
  return el("div", { className: name, children });
}

export function span(name, text) {
  return el("span", { className: name, text });
}

export function button(text, onClick, data = {}) {
  const element = el("button", { text, data });
  element.type = "button";
  element.addEventListener("click", onClick);
  return element;
}

export function escapeHtml(text) {
  return String(text ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

// "4:05" or "1:02:03": a countdown's remaining (or overdue) time.
export function formatDuration(seconds) {
  const whole = Math.max(0, Math.round(Math.abs(seconds)));
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  const s = String(whole % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}
