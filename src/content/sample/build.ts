import type { ItemBody } from '../item';
import { mulberry32 } from '../../random';

/**
 * Small helpers for writing the sample bank's items in both languages at once: every text is a pair
 * {id, en} written natively for each language (not translated word for word), numbers are formatted
 * as each language writes them, and item bodies are assembled from a few shapes.
 */
export type Bi = { id: string; en: string };

export const LANGS = ['id', 'en'] as const;

/** A seeded generator: the sample bank is the same on every install. */
export const rng = mulberry32;

export type Rand = ReturnType<typeof rng>;
export const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
export const int = (r: Rand, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));

export function gcd(a: number, b: number): number {
  return b === 0 ? Math.abs(a) : gcd(b, a % b);
}

/**
 * `\(\frac{n}{d}\)`, always: where the bank writes a fraction it means one, and "5/1" (an upside-down
 * 1/5, the reciprocal of 1/5) shown as "5" would make the question nonsense.
 */
export function fr(n: number, d: number): string {
  return `\\(\\frac{${n}}{${d}}\\)`;
}

/** A mixed number, `\(2\frac{3}{4}\)`; a whole number, plain, when there is no fractional part. */
export function mixed(w: number, n: number, d: number): string {
  return n === 0 ? String(w) : `\\(${w}\\frac{${n}}{${d}}\\)`;
}

/** "1 part", "2 parts": a count with its English noun. */
export function count(n: number, singular: string, plural = `${singular}s`): string {
  return `${n} ${n === 1 ? singular : plural}`;
}

/** A decimal as each language writes it: "0,75" and "0.75". */
export function dec(x: number, lang: 'id' | 'en', digits = 3): string {
  const s = String(Number(x.toFixed(digits)));
  return lang === 'id' ? s.replace('.', ',') : s;
}

/** Rupiah: "Rp12.500" in Indonesian, "Rp12,500" in English. */
export function rp(x: number, lang: 'id' | 'en'): string {
  return `Rp${x.toLocaleString(lang === 'id' ? 'id-ID' : 'en-US')}`;
}

/** A bilingual text built by one function per language. */
export function bi(f: (lang: 'id' | 'en') => string): Bi {
  return { id: f('id'), en: f('en') };
}

const p = (t: Bi): Bi => ({ id: `<p>${t.id}</p>`, en: `<p>${t.en}</p>` });

interface Common {
  stem: Bi;
  hints: Bi[];
  solution: Bi;
}

export interface Distractor {
  text: Bi;
  /** What this wrong answer suggests the student thought. */
  feedback: Bi;
}

/** Multiple choice, one correct; choices shuffled once, deterministically. */
export function multichoice(r: Rand, c: Common & { correct: Bi; distractors: Distractor[] }): ItemBody {
  // A distractor that reads like the correct answer or another distractor (small numbers can collide) is dropped.
  const distinct = c.distractors.filter((d, i) => d.text.en !== c.correct.en && c.distractors.findIndex((o) => o.text.en === d.text.en) === i);
  const all = [{ text: c.correct, correct: true, feedback: undefined as Bi | undefined }, ...distinct.map((d) => ({ text: d.text, correct: false, feedback: p(d.feedback) as Bi | undefined }))];
  for (let i = all.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [all[i], all[j]] = [all[j]!, all[i]!];
  }
  return {
    v: 1, kind: 'multichoice', languages: [...LANGS], stem: p(c.stem), hints: c.hints.map(p), solution: p(c.solution),
    choices: all.map((x, i) => ({ key: 'abcdefgh'[i]!, text: x.text, correct: x.correct, ...(x.feedback ? { feedback: x.feedback } : {}) })),
  };
}

/** Several correct choices, in the given order. */
export function multiresponse(c: Common & { choices: { text: Bi; correct: boolean; feedback?: Bi }[] }): ItemBody {
  return {
    v: 1, kind: 'multiresponse', languages: [...LANGS], stem: p(c.stem), hints: c.hints.map(p), solution: p(c.solution),
    choices: c.choices.map((x, i) => ({ key: 'abcdefgh'[i]!, text: x.text, correct: x.correct, ...(x.feedback ? { feedback: p(x.feedback) } : {}) })),
  };
}

export function truefalse(c: Common & { answer: boolean; whenWrong: Bi }): ItemBody {
  return {
    v: 1, kind: 'truefalse', languages: [...LANGS], stem: p(c.stem), hints: c.hints.map(p), solution: p(c.solution), answer: c.answer,
    ...(c.answer ? { feedbackFalse: p(c.whenWrong) } : { feedbackTrue: p(c.whenWrong) }),
  };
}

/**
 * A numeric answer. Fractions are accepted as typed ("5/8") and as decimals: exactly when the value
 * has a short decimal, to two places when it does not (2/3 ≈ 0,67).
 */
export function numeric(c: Common & { value: number; unit?: string; wrong?: { value: number; feedback: Bi }[] }): ItemBody {
  const exact = Math.abs(Math.round(c.value * 1000) - c.value * 1000) < 1e-9;
  const wrong = (c.wrong ?? []).filter((w) => Math.abs(w.value - c.value) > 1e-6);
  return {
    v: 1, kind: 'numeric', languages: [...LANGS], stem: p(c.stem), hints: c.hints.map(p), solution: p(c.solution),
    answers: [
      { value: c.value, tolerance: exact ? 1e-6 : 0.005, correct: true },
      ...wrong.map((w) => ({ value: w.value, tolerance: 1e-6, correct: false, feedback: p(w.feedback) })),
    ],
    units: c.unit ? [{ name: c.unit, multiplier: 1 }] : [],
    unitRequired: false,
  };
}

/** A short typed answer matched exactly (spaces and case ignored). */
export function shortanswer(c: Common & { answers: string[]; wrong?: { text: string; feedback: Bi }[] }): ItemBody {
  return {
    v: 1, kind: 'shortanswer', languages: [...LANGS], stem: p(c.stem), hints: c.hints.map(p), solution: p(c.solution), caseSensitive: false,
    answers: [
      ...c.answers.map((text) => ({ match: 'exact' as const, text, correct: true })),
      ...(c.wrong ?? []).map((w) => ({ match: 'exact' as const, text: w.text, correct: false, feedback: p(w.feedback) })),
    ],
  };
}
