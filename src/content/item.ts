import { z } from 'zod';
import { translate, type Locale } from '../web/i18n';
import { escapeHtml, plainText, renderRichText } from './richtext';
import { wildcardMatch } from './wildcard';

/**
 * An item's body, as stored in `item.body` (JSON). Every text is a {@link LocalizedText}: one HTML
 * string per language the item is written in (`languages`, the first being its main one), so a
 * bilingual item carries its Bahasa Indonesia and English wording side by side and is shown in the
 * viewer's language when it has it. Text is sanitised HTML with TeX between `\( … \)` (see richtext.ts).
 */
const language = z.string().regex(/^[a-z]{2,3}$/, 'a language code such as "id" or "en"');
const text = z.record(language, z.string());
export type LocalizedText = z.infer<typeof text>;

const choice = z.object({
  /** Stable key the response names ("a", "b"…). */
  key: z.string().regex(/^[a-z0-9]{1,8}$/),
  text,
  correct: z.boolean(),
  /** Shown when this choice is picked: for a wrong one, the misconception it reveals. */
  feedback: text.optional(),
});

const common = {
  v: z.literal(1),
  languages: z.array(language).min(1),
  stem: text,
  /** Shown one at a time, in order, on request. */
  hints: z.array(text).default([]),
  /** The worked solution, shown after answering or on request. */
  solution: text.optional(),
  /** Shown after every answer, right or wrong. */
  generalFeedback: text.optional(),
};

const numericAnswer = z.object({
  value: z.number().finite(),
  /** Absolute: a response within value ± tolerance matches. */
  tolerance: z.number().finite().nonnegative(),
  correct: z.boolean(),
  feedback: text.optional(),
});

const textAnswer = z.object({
  /** `exact`: the whole response (spaces trimmed and collapsed); `wildcard`: `*` matches any characters. */
  match: z.enum(['exact', 'wildcard']),
  text: z.string().min(1),
  correct: z.boolean(),
  feedback: text.optional(),
});

export const itemBodySchema = z.discriminatedUnion('kind', [
  z.object({ ...common, kind: z.literal('multichoice'), choices: z.array(choice).min(2) })
    .refine((b) => b.choices.filter((c) => c.correct).length === 1, 'a multichoice item has exactly one correct choice'),
  z.object({ ...common, kind: z.literal('multiresponse'), choices: z.array(choice).min(2) })
    .refine((b) => b.choices.some((c) => c.correct), 'a multiresponse item has at least one correct choice'),
  z.object({
    ...common, kind: z.literal('truefalse'), answer: z.boolean(),
    feedbackTrue: text.optional(), feedbackFalse: text.optional(),
  }),
  z.object({
    ...common, kind: z.literal('numeric'),
    /** Checked in order; the first that matches decides (wrong ones carry feedback for typical slips). */
    answers: z.array(numericAnswer).min(1),
    /**
     * Units the response may carry, before or after the number ("Rp 1500", "150 cm"): the answers are in
     * the unit whose multiplier is 1; "1.5 m" with { name: 'm', multiplier: 0.01 } means 150.
     */
    units: z.array(z.object({ name: z.string().min(1), multiplier: z.number().positive() })).default([]),
    unitRequired: z.boolean().default(false),
  }).refine((b) => b.answers.some((a) => a.correct), 'a numeric item has at least one correct answer'),
  z.object({
    ...common, kind: z.literal('shortanswer'),
    answers: z.array(textAnswer).min(1),
    caseSensitive: z.boolean().default(false),
  }).refine((b) => b.answers.some((a) => a.correct), 'a shortanswer item has at least one correct answer'),
]).superRefine((b, ctx) => {
  // Every text of the item speaks every language the item claims.
  const texts: [string, LocalizedText | undefined][] = [['stem', b.stem], ['solution', b.solution], ['generalFeedback', b.generalFeedback],
    ...b.hints.map((h, i) => [`hints.${i}`, h] as [string, LocalizedText])];
  if ('choices' in b) b.choices.forEach((c, i) => texts.push([`choices.${i}.text`, c.text], [`choices.${i}.feedback`, c.feedback]));
  if ('answers' in b) b.answers.forEach((a, i) => texts.push([`answers.${i}.feedback`, a.feedback]));
  for (const [where, t] of texts) {
    if (!t) continue;
    for (const l of b.languages) if (!t[l]) ctx.addIssue({ code: 'custom', path: where.split('.'), message: `no "${l}" text` });
  }
});

export type ItemBody = z.infer<typeof itemBodySchema>;
export type ItemKind = ItemBody['kind'];
export const ITEM_KINDS: ItemKind[] = ['multichoice', 'multiresponse', 'truefalse', 'numeric', 'shortanswer'];

/** A teacher's difficulty tag on an item (`item.difficulty`): what the knowledge estimate assumes until answers tell. */
export type ItemDifficulty = 'easy' | 'medium' | 'hard';

/** An item ready to show and grade: its body plus where it lives. */
export type Item = ItemBody & { id: number; bankId: number; code: string };

/** What a student answered, once the posted form has been checked. Stored as `attempt.response`. */
export type ItemResponse =
  | { kind: 'multichoice'; choice: string }
  | { kind: 'multiresponse'; choices: string[] }
  | { kind: 'truefalse'; value: boolean }
  | { kind: 'numeric'; text: string }
  | { kind: 'shortanswer'; text: string };

/** A stored item whose body does not parse: a bug or a damaged row, never a student's doing. */
export class InvalidItem extends Error {}

/** Parses and validates a row of the `item` table. */
export function loadItem(row: { id: number; bank_id: number; code: string; kind: string; body: string }): Item {
  let json: unknown;
  try {
    json = JSON.parse(row.body);
  } catch (e) {
    throw new InvalidItem(`item ${row.id}: body is not JSON (${(e as Error).message})`);
  }
  const parsed = itemBodySchema.safeParse(json);
  if (!parsed.success) throw new InvalidItem(`item ${row.id}: ${describeIssues(parsed.error)}`);
  if (parsed.data.kind !== row.kind) throw new InvalidItem(`item ${row.id}: kind column ${row.kind} but body ${parsed.data.kind}`);
  return { ...parsed.data, id: row.id, bankId: row.bank_id, code: row.code };
}

/** zod issues as one line: "choices.1.text: no "en" text; …". */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');
}

/** How to show rich text: the asset route of the viewer's session, for the bank's images. */
export interface ShowOptions {
  /** `assetBaseFor(sessionId)`; without it images are left out. */
  assetBase?: string;
}

/** The language to show: the viewer's if the item has it, else the item's main language. */
export function shownLanguage(item: ItemBody, locale: Locale): string {
  return item.languages.includes(locale) ? locale : item.languages[0]!;
}

function show(t: LocalizedText | undefined, lang: string, item: Item, o: ShowOptions): string {
  if (!t) return '';
  return renderRichText(t[lang] ?? Object.values(t)[0] ?? '', o.assetBase && `${o.assetBase}/${item.bankId}`);
}

/** The start of the item's question as plain text (TeX left as written), for lists that name items. */
export function stemSummary(item: Item, locale: Locale, max = 80): string {
  const text = plainText(item.stem[shownLanguage(item, locale)] ?? '');
  return text.length > max ? `${text.slice(0, max - 1).trimEnd()}…` : text;
}

/** The session route that serves a bank's images (see routes.ts). */
export function assetBaseFor(sessionId: string): string {
  return `/s/${sessionId}/content/assets`;
}

// ------------------------------------------------------------------ the form

export interface FormOptions extends ShowOptions {
  /** Prefix for field names and ids, when one page holds several items. */
  namePrefix?: string;
  /** What the student answered before (the form shown again after a refusal keeps it). */
  response?: ItemResponse;
  /** Why the posted answer was refused, shown at the field it concerns. */
  problem?: string;
}

/**
 * The item as a student sees it: stem and answer fields, accessible (fieldset and legend, a label for
 * every field) and working without JavaScript. The caller wraps it in its <form> and submit button;
 * the answer is posted as `${namePrefix}answer`.
 */
export function renderItemForm(item: Item, locale: Locale, opts: FormOptions = {}): string {
  const p = opts.namePrefix ?? '';
  const lang = shownLanguage(item, locale);
  const name = `${p}answer`;
  const stemId = `${p}stem`;
  const r = opts.response?.kind === item.kind ? opts.response : undefined;
  const t = (key: string, vars?: Record<string, unknown>) => escapeHtml(translate(locale, `content.item.${key}`, vars));
  const langAttr = lang === locale ? '' : ` lang="${lang}"`;
  const stem = `<div class="item-stem" id="${stemId}">${show(item.stem, lang, item, opts)}</div>`;
  const problemId = `${p}answer-problem`;
  const problem = opts.problem ? `<p class="problem" id="${problemId}">${escapeHtml(opts.problem)}</p>\n` : '';
  const refused = opts.problem ? `${problemId} ` : '';
  let fields: string;
  switch (item.kind) {
    case 'multichoice':
    case 'multiresponse': {
      const multi = item.kind === 'multiresponse';
      const picked = new Set(r?.kind === 'multichoice' ? [r.choice] : r?.kind === 'multiresponse' ? r.choices : []);
      const options = item.choices.map((c) => {
        const id = `${p}choice-${c.key}`;
        return `<div class="choice"><input type="${multi ? 'checkbox' : 'radio'}" id="${id}" name="${name}" value="${c.key}"${picked.has(c.key) ? ' checked' : ''}${multi ? '' : ' required'}>`
          + ` <label for="${id}">${show(c.text, lang, item, opts)}</label></div>`;
      }).join('\n');
      fields = `<fieldset class="item-answer" aria-describedby="${refused}${stemId}"><legend>${t(multi ? 'choose_all' : 'choose_one')}</legend>\n${problem}${options}\n</fieldset>`;
      break;
    }
    case 'truefalse': {
      const options = [true, false].map((v) => {
        const id = `${p}tf-${v}`;
        const checked = r?.kind === 'truefalse' && r.value === v ? ' checked' : '';
        return `<div class="choice"><input type="radio" id="${id}" name="${name}" value="${v}"${checked} required> <label for="${id}">${t(v ? 'true' : 'false')}</label></div>`;
      }).join('\n');
      fields = `<fieldset class="item-answer" aria-describedby="${refused}${stemId}"><legend>${t('true_or_false')}</legend>\n${problem}${options}\n</fieldset>`;
      break;
    }
    case 'numeric':
    case 'shortanswer': {
      const numeric = item.kind === 'numeric';
      const value = r?.kind === 'numeric' || r?.kind === 'shortanswer' ? ` value="${escapeHtml(r.text)}"` : '';
      const help = numeric && item.unitRequired && item.units.length
        ? `<p class="field-help" id="${p}answer-help">${t('with_unit', { units: item.units.map((u) => u.name).join(', ') })}</p>` : '';
      const described = refused + (help ? `${stemId} ${p}answer-help` : stemId);
      const invalid = opts.problem ? ' aria-invalid="true" autofocus' : '';
      // A phone's decimal keypad has no "/": only answers that are whole numbers get it.
      const mode = item.kind === 'numeric' && item.answers.every((a) => Number.isInteger(a.value)) ? 'decimal' : 'text';
      const input = numeric
        ? `<input type="text" inputmode="${mode}" id="${name}" name="${name}" autocomplete="off" maxlength="${MAX_NUMERIC_RESPONSE}" required aria-describedby="${described}"${invalid}${value}>`
        : `<input type="text" id="${name}" name="${name}" autocomplete="off" autocapitalize="off" spellcheck="false" maxlength="${MAX_TEXT_RESPONSE}" required aria-describedby="${described}"${invalid}${value}>`;
      fields = `<div class="item-answer"><label for="${name}">${t('your_answer')}</label>\n${help}${problem}${input}</div>`;
      break;
    }
  }
  return `<div class="item"${langAttr}>\n${stem}\n${fields}\n</div>`;
}

// ------------------------------------------------------------------ reading the posted form

/** The longest typed answers a student may post, and a grader considers. */
export const MAX_NUMERIC_RESPONSE = 60;
export const MAX_TEXT_RESPONSE = 200;

type ResponseProblem = 'choose_one' | 'choose_some' | 'unknown_choice' | 'enter_number' | 'enter_text' | 'too_long';

/** The posted answer is missing or malformed: show the form again with {@link InvalidResponse.message}. */
export class InvalidResponse extends Error {
  readonly status = 400;
  constructor(readonly problem: ResponseProblem) {
    super(`invalid response: ${problem}`);
  }

  /** What to tell the student, in their language. */
  userMessage(locale: Locale): string {
    return translate(locale, `content.response.${this.problem}`);
  }
}

/**
 * Reads the answer from a posted form (express's urlencoded body). Throws {@link InvalidResponse} for a
 * missing or malformed answer, which the page shows next to the form it redisplays.
 */
export function parseResponse(item: Item, formBody: Record<string, unknown>, opts: { namePrefix?: string } = {}): ItemResponse {
  const raw = formBody[`${opts.namePrefix ?? ''}answer`];
  const values = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).filter((v): v is string => typeof v === 'string');
  const single = values.length === 1 ? values[0]!.trim() : undefined;
  switch (item.kind) {
    case 'multichoice':
      if (!single) throw new InvalidResponse('choose_one');
      if (!item.choices.some((c) => c.key === single)) throw new InvalidResponse('unknown_choice');
      return { kind: 'multichoice', choice: single };
    case 'multiresponse': {
      if (!values.length) throw new InvalidResponse('choose_some');
      const keys = [...new Set(values)];
      if (!keys.every((k) => item.choices.some((c) => c.key === k))) throw new InvalidResponse('unknown_choice');
      return { kind: 'multiresponse', choices: keys.sort() };
    }
    case 'truefalse':
      if (single !== 'true' && single !== 'false') throw new InvalidResponse('choose_one');
      return { kind: 'truefalse', value: single === 'true' };
    case 'numeric':
      if (!single) throw new InvalidResponse('enter_number');
      if (single.length > MAX_NUMERIC_RESPONSE) throw new InvalidResponse('too_long');
      if (!readNumber(single)) throw new InvalidResponse('enter_number');
      return { kind: 'numeric', text: single };
    case 'shortanswer':
      if (!single) throw new InvalidResponse('enter_text');
      if (single.length > MAX_TEXT_RESPONSE) throw new InvalidResponse('too_long');
      return { kind: 'shortanswer', text: single };
  }
}

/**
 * A number as students write it, and the rest of the text (the unit). Accepts "0,75" and "0.75",
 * "1.500.000" and "1,500,000", "3/4", "1 1/2", "-2". "1.500" is ambiguous (1.5 in English, 1500 in
 * Indonesian), so both readings are candidates and either may match.
 */
export function readNumber(s: string): { values: number[]; unit: string } | undefined {
  const m = /-?\d[\d.,]*(?:\s+\d+\s*\/\s*\d+|\s*\/\s*\d+)?/.exec(s.replace(/\u2212/g, '-'));
  if (!m) return undefined;
  const unit = (s.slice(0, m.index) + ' ' + s.slice(m.index + m[0].length)).trim();
  const token = m[0];
  const fraction = /^(-?)(?:(\d+)\s+)?(\d+)\s*\/\s*(\d+)$/.exec(token);
  if (fraction) {
    const [, sign, whole, num, den] = fraction;
    if (Number(den) === 0) return undefined;
    const v = (Number(whole ?? 0) + Number(num) / Number(den)) * (sign ? -1 : 1);
    return { values: [v], unit };
  }
  if (/\s/.test(token)) return undefined;
  const values = decimalReadings(token).filter(Number.isFinite);
  return values.length ? { values, unit } : undefined;
}

function decimalReadings(token: string): number[] {
  const seps = token.replace(/[^.,]/g, '');
  const plain = (t: string) => Number(t);
  if (!seps) return [plain(token)];
  const last = Math.max(token.lastIndexOf('.'), token.lastIndexOf(','));
  const lastSep = token[last]!;
  const groups = (sep: string) => new RegExp(`^-?\\d{1,3}(\\${sep}\\d{3})+$`).test(token);
  if (seps.length === 1) {
    const decimal = plain(token.replace(lastSep, '.'));
    // One separator then exactly three digits: a decimal mark or a thousands mark.
    return groups(lastSep) ? [decimal, plain(token.replace(lastSep, ''))] : [decimal];
  }
  if (new Set(seps).size === 1) return groups(lastSep) ? [plain(token.split(lastSep).join(''))] : [NaN];
  // Both marks: the last one is the decimal mark ("1.234,5" or "1,234.5").
  const thousands = lastSep === ',' ? '.' : ',';
  if (seps.indexOf(lastSep) !== seps.length - 1) return [NaN];
  return [plain(token.split(thousands).join('').replace(lastSep, '.'))];
}

// ------------------------------------------------------------------ grading

export interface Grade {
  correct: boolean;
  /** The feedback for what was answered (the chosen choice's, the matching answer's) and the general feedback. */
  feedbackHtml: string;
}

/**
 * Grades a response. Correctness is all or nothing (a multiresponse item needs exactly its correct
 * choices). The feedback is in `opts.locale` when the item has it, else the item's main language.
 */
export function gradeResponse(item: Item, response: ItemResponse, opts: ShowOptions & { locale?: Locale } = {}): Grade {
  const locale = opts.locale ?? (item.languages[0] === 'en' ? 'en' : 'id');
  const lang = shownLanguage(item, locale);
  const feedback: (LocalizedText | undefined)[] = [];
  const notes: string[] = [];
  let correct = false;
  if (response.kind !== item.kind) throw new InvalidResponse('unknown_choice');
  switch (item.kind) {
    case 'multichoice': {
      const choice = item.choices.find((c) => c.key === (response as { choice: string }).choice);
      correct = choice?.correct ?? false;
      feedback.push(choice?.feedback);
      break;
    }
    case 'multiresponse': {
      const picked = new Set((response as { choices: string[] }).choices);
      correct = item.choices.every((c) => c.correct === picked.has(c.key));
      for (const c of item.choices) if (picked.has(c.key)) feedback.push(c.feedback);
      break;
    }
    case 'truefalse': {
      const value = (response as { value: boolean }).value;
      correct = value === item.answer;
      feedback.push(value ? item.feedbackTrue : item.feedbackFalse);
      break;
    }
    case 'numeric': {
      const text = (response as { text: string }).text;
      const read = text.length <= MAX_NUMERIC_RESPONSE ? readNumber(text) : undefined;
      if (!read) break;
      // Words around the number count as a unit only for items that have units.
      const unitText = item.units.length ? read.unit : '';
      const unit = unitText ? item.units.find((u) => u.name.toLowerCase() === unitText.toLowerCase()) : undefined;
      if (unitText && !unit) {
        notes.push(translate(locale, 'content.grade.unknown_unit', { unit: read.unit }));
        break;
      }
      if (!unitText && item.unitRequired && item.units.length) {
        notes.push(translate(locale, 'content.grade.unit_missing'));
        break;
      }
      const values = read.values.map((v) => v / (unit?.multiplier ?? 1));
      const match = item.answers.find((a) => values.some((v) => Math.abs(v - a.value) <= a.tolerance + 1e-9 * Math.max(1, Math.abs(a.value))));
      correct = match?.correct ?? false;
      feedback.push(match?.feedback);
      break;
    }
    case 'shortanswer': {
      const norm = (s: string) => (item.caseSensitive ? s : s.toLocaleLowerCase('id')).trim().replace(/\s+/g, ' ');
      const given = norm((response as { text: string }).text);
      // A stored response is never longer than a posted one may be; the bound keeps matching cheap.
      const match = given.length > MAX_TEXT_RESPONSE ? undefined
        : item.answers.find((a) => a.match === 'exact' ? norm(a.text) === given : wildcardMatch(norm(a.text), given));
      correct = match?.correct ?? false;
      feedback.push(match?.feedback);
      break;
    }
  }
  feedback.push(item.generalFeedback);
  const html = [
    ...notes.map((n) => `<p>${escapeHtml(n)}</p>`),
    ...feedback.filter((f): f is LocalizedText => !!f).map((f) => `<div class="feedback">${show(f, lang, item, opts)}</div>`),
  ].join('\n');
  return { correct, feedbackHtml: html };
}

// ------------------------------------------------------------------ hints and solution

/** The worked solution, or '' when the item has none. */
export function renderSolution(item: Item, locale: Locale, opts: ShowOptions = {}): string {
  return item.solution ? `<div class="solution">${show(item.solution, shownLanguage(item, locale), item, opts)}</div>` : '';
}

/** Hint number `index` (0-based), or '' past the last one; `item.hints.length` says how many there are. */
export function renderHint(item: Item, index: number, locale: Locale, opts: ShowOptions = {}): string {
  const hint = item.hints[index];
  return hint ? `<div class="hint">${show(hint, shownLanguage(item, locale), item, opts)}</div>` : '';
}

/** The correct answer(s), written out: for a teacher's preview. */
export function renderAnswerKey(item: Item, locale: Locale, opts: ShowOptions = {}): string {
  const lang = shownLanguage(item, locale);
  const t = (key: string) => escapeHtml(translate(locale, `content.item.${key}`));
  switch (item.kind) {
    case 'multichoice':
    case 'multiresponse':
      return item.choices.filter((c) => c.correct).map((c) => show(c.text, lang, item, opts)).join('; ');
    case 'truefalse':
      return t(item.answer ? 'true' : 'false');
    case 'numeric': {
      const unit = item.units.find((u) => u.multiplier === 1)?.name;
      return item.answers.filter((a) => a.correct)
        .map((a) => escapeHtml(`${a.value}${a.tolerance ? ` ± ${a.tolerance}` : ''}${unit ? ` ${unit}` : ''}`)).join('; ');
    }
    case 'shortanswer':
      return item.answers.filter((a) => a.correct).map((a) => `<code>${escapeHtml(a.text)}</code>`).join('; ');
  }
}

// ------------------------------------------------------------------ the review after an answer

/**
 * The item as answered, for the student's review (as a quiz review shows it): the stem, what they
 * answered marked right or wrong, and the correct answer(s). `correct`: the attempt's grade.
 */
export function renderReview(item: Item, response: ItemResponse, correct: boolean, locale: Locale, opts: ShowOptions = {}): string {
  const lang = shownLanguage(item, locale);
  const t = (key: string, vars?: Record<string, unknown>) => escapeHtml(translate(locale, `content.${key}`, vars));
  const langAttr = lang === locale ? '' : ` lang="${lang}"`;
  const inLang = (html: string) => (langAttr ? `<span${langAttr}>${html}</span>` : html);
  // A mark in words as well as a sign and a colour.
  const verdict = (right: boolean, key: string) => `<span class="verdict ${right ? 'ok' : 'bad'}">${right ? '✓' : '✗'} ${t(`review.${key}`)}</span>`;
  let answered: string;
  let key: string[];
  switch (item.kind) {
    case 'multichoice':
    case 'multiresponse':
    case 'truefalse': {
      const options = item.kind === 'truefalse'
        ? [true, false].map((v) => ({ html: t(`item.${v}`), correct: v === item.answer, picked: response.kind === 'truefalse' && response.value === v }))
        : item.choices.map((c) => ({
          html: inLang(show(c.text, lang, item, opts)), correct: c.correct,
          picked: response.kind === 'multichoice' ? response.choice === c.key : response.kind === 'multiresponse' && response.choices.includes(c.key),
        }));
      const rows = options.map((o) => (o.picked
        ? `<li class="picked ${o.correct ? 'ok' : 'bad'}">${o.html} ${verdict(o.correct, o.correct ? 'picked_right' : 'picked_wrong')}</li>`
        : `<li>${o.html}</li>`));
      answered = `<ul class="review-choices">\n${rows.join('\n')}\n</ul>`;
      key = options.filter((o) => o.correct).map((o) => o.html);
      break;
    }
    case 'numeric':
    case 'shortanswer': {
      const typed = response.kind === 'numeric' || response.kind === 'shortanswer' ? response.text : '';
      answered = `<p class="review-typed"><strong>${t('item.your_answer')}:</strong> <span class="typed">${escapeHtml(typed)}</span> ${verdict(correct, correct ? 'right' : 'wrong')}</p>`;
      if (item.kind === 'numeric') {
        // In the student's own decimal mark, without thousands marks (Indonesian "1.500" would read as 1.5 too).
        const number = new Intl.NumberFormat(locale === 'id' ? 'id-ID' : 'en-US', { useGrouping: false, maximumFractionDigits: 10 });
        const unit = item.units.find((u) => u.multiplier === 1)?.name;
        key = item.answers.filter((a) => a.correct).map((a) => escapeHtml(`${number.format(a.value)}${unit ? ` ${unit}` : ''}`));
      } else {
        // The teacher's first accepted answer as written (a wildcard pattern is not expanded).
        key = [inLang(escapeHtml(item.answers.find((a) => a.correct)!.text))];
      }
      break;
    }
  }
  const keyHtml = `<div class="review-key"><strong>${t('review.correct_answer', { n: key.length })}:</strong> ${key.join('; ')}</div>`;
  return `<div class="item review">\n<div class="item-stem"${langAttr}>${show(item.stem, lang, item, opts)}</div>\n${answered}\n${keyHtml}\n</div>`;
}
