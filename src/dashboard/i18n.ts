import {
  isLocale,
  type Locale,
  type MessageKey,
  type Params,
  type Translator,
  translator,
} from '../i18n/index.ts';

/**
 * The dashboard's language: the user's locale from /api/me, unless this browser chose another in
 * the header (kept in localStorage, so a measuring team's phone stays in its language). Times are
 * always shown in the site's time zone, never the browser's.
 */
const CHOICE_KEY = 'heatwatch.locale';
let current: Translator = translator('en', 'UTC');

export const tr = (): Translator => current;
export const t = (key: MessageKey, params?: Params): string => current.t(key, params);

/** The locale this browser chose in the page, if any. */
export function chosenLocale(): Locale | undefined {
  const v = localStorage.getItem(CHOICE_KEY);
  return isLocale(v) ? v : undefined;
}

export function chooseLocale(locale: Locale): void {
  localStorage.setItem(CHOICE_KEY, locale);
}

export function setLocale(locale: Locale, timeZone: string): void {
  current = translator(locale, timeZone);
  document.documentElement.lang = locale;
  translateStatic(document.body);
}

/** Static markup names its words by key: data-i18n (text), data-i18n-placeholder, -title, -aria. */
export function translateStatic(root: ParentNode): void {
  for (const el of root.querySelectorAll<HTMLElement>('[data-i18n]'))
    el.textContent = t(el.dataset.i18n as MessageKey);
  for (const el of root.querySelectorAll<HTMLElement>('[data-i18n-placeholder]'))
    el.setAttribute('placeholder', t(el.dataset.i18nPlaceholder as MessageKey));
  for (const el of root.querySelectorAll<HTMLElement>('[data-i18n-title]'))
    el.title = t(el.dataset.i18nTitle as MessageKey);
  for (const el of root.querySelectorAll<HTMLElement>('[data-i18n-aria]'))
    el.setAttribute('aria-label', t(el.dataset.i18nAria as MessageKey));
}
