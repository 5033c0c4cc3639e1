// The interface's two languages: every string the page shows comes from i18n/en.json or
// i18n/ru.json (same keys in both; tests/e2e/test_desk_i18n.py checks). Elements name their
// string with data-i18n (text) or data-i18n-aria-label; code calls t(key, {placeholder: value}).

export const LANGUAGES = ["en", "ru"];
const STORAGE_KEY = "parley.desk.language";
const dictionaries = {};
let current = "en";

export async function loadLanguages() {
  await Promise.all(
    LANGUAGES.map(async (language) => {
      const response = await fetch(`/desk/static/desk/i18n/${language}.json`);
      dictionaries[language] = await response.json();
    }),
  );
  const saved = localStorage.getItem(STORAGE_KEY);
  current = LANGUAGES.includes(saved) ? saved : "en";
}

export function language() {
  return current;
}

export function setLanguage(code) {
  if (!LANGUAGES.includes(code)) return;
  current = code;
  localStorage.setItem(STORAGE_KEY, code);
  applyTo(document);
}

// The string of a key in the current language, placeholders {name} filled in; a missing key
// shows itself (so it is seen and fixed) rather than an empty space.
export function t(key, values = {}) {
  const text = dictionaries[current]?.[key] ?? dictionaries.en?.[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

// The translation of a value of a known family (side, domain, severity, role…), else the value.
export function tValue(family, value) {
  const key = `${family}.${value}`;
  return key in (dictionaries[current] ?? {}) ? t(key) : String(value ?? "");
}

export function applyTo(root) {
  document.documentElement.lang = current;
  for (const element of root.querySelectorAll("[data-i18n]")) {
    element.textContent = t(element.dataset.i18n);
  }
  for (const element of root.querySelectorAll("[data-i18n-aria-label]")) {
    element.setAttribute("aria-label", t(element.dataset.i18nAriaLabel));
  }
  for (const button of root.querySelectorAll("[data-language]")) {
    button.setAttribute("aria-pressed", String(button.dataset.language === current));
  }
  document.dispatchEvent(new CustomEvent("languagechange"));
}
