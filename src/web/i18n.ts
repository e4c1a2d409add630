import en from './locales/en.json';
import id from './locales/id.json';

export const LOCALES = { en, id } as const;
export type Locale = keyof typeof LOCALES;

/**
 * The page language from an LTI launch_presentation.locale ("id", "id-ID", "in_ID", "en-US"…) or
 * an Accept-Language value. Bahasa Indonesia for Indonesian, English otherwise.
 */
export function pickLocale(tag: string | undefined | null): Locale {
  const first = (tag ?? '').split(',')[0].trim().toLowerCase();
  return /^(id|in)([-_]|$)/.test(first) ? 'id' : 'en';
}

/** Thrown for a string key that a locale lacks: a missing translation is a bug, not a blank. */
export class MissingTranslation extends Error {}

export function translate(locale: Locale, key: string, vars: Record<string, unknown> = {}): string {
  const value = key.split('.').reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), LOCALES[locale]);
  if (typeof value !== 'string') throw new MissingTranslation(`missing translation "${key}" in locale ${locale}`);
  return value.replace(/\{(\w+)\}/g, (_, name: string) => (vars[name] === undefined ? `{${name}}` : String(vars[name])));
}

/** Every key path of a locale, for the test that both languages say everything. */
export function keyPaths(tree: unknown, prefix = ''): string[] {
  if (typeof tree !== 'object' || tree === null) return [prefix];
  return Object.entries(tree).flatMap(([k, v]) => keyPaths(v, prefix ? `${prefix}.${k}` : k));
}
