import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from '../config';

/**
 * The two languages of every screen. Strings live in views/locales/<lang>/*.json; each file holds one
 * or more top-level sections (each part of Jejak keeps its own file), merged at start.
 */
export type Locale = 'en' | 'id';
const LOCALES_DIR = path.join(ROOT, 'views', 'locales');

function loadLocale(locale: Locale): Record<string, unknown> {
  const dir = path.join(LOCALES_DIR, locale);
  const merged: Record<string, unknown> = {};
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
    const content = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as Record<string, unknown>;
    for (const [key, value] of Object.entries(content)) {
      if (key in merged) throw new Error(`locales/${locale}/${file}: section "${key}" is already defined by another file`);
      merged[key] = value;
    }
  }
  return merged;
}

export const LOCALES: Record<Locale, Record<string, unknown>> = { en: loadLocale('en'), id: loadLocale('id') };

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
  return value
    .replace(PLURAL, (_, name: string, one: string, other: string) => (vars[name] === undefined ? `{${name}}` : (Number(vars[name]) === 1 ? one : other).replace(/#/g, String(vars[name]))))
    .replace(/\{(\w+)\}/g, (_, name: string) => (vars[name] === undefined ? `{${name}}` : String(vars[name])));
}

/**
 * English needs "1 minute" but "2 minutes"; Indonesian does not inflect. A string says so in ICU's
 * form, `{minutes, plural, one {# minute} other {# minutes}}`, `#` standing for the number.
 */
const PLURAL = /\{(\w+), plural, one \{([^{}]*)\} other \{([^{}]*)\}\}/g;

/** Every key path of a locale, for the test that both languages say everything. */
export function keyPaths(tree: unknown, prefix = ''): string[] {
  if (typeof tree !== 'object' || tree === null) return [prefix];
  return Object.entries(tree).flatMap(([k, v]) => keyPaths(v, prefix ? `${prefix}.${k}` : k));
}
