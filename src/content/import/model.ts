import { itemBodySchema, describeIssues, MAX_TEXT_RESPONSE, type ItemBody, type ItemDifficulty, type LocalizedText } from '../item';
import { texErrors } from '../richtext';

/** One line of an import report: what was taken, refused, or worth knowing, and where in the file. */
export interface ReportLine {
  /** 1-based line in the uploaded file (0 for the file as a whole). */
  line: number;
  outcome: 'took' | 'refused' | 'note';
  /** Message key under content.import.msg, with its values. */
  key: string;
  vars: Record<string, string | number>;
}

export interface ParsedSkill {
  code: string;
  name: LocalizedText;
  /** Skill details (stored as skill.details): curriculum outcomes served, description. */
  details: Record<string, unknown>;
  /** Codes of the skills to master first. */
  prerequisites: string[];
}

export interface ParsedItem {
  code: string;
  /** Where the item starts in the file. */
  line: number;
  body: ItemBody;
  skills: string[];
  /** The teacher's difficulty tag; null when the file gives none. */
  difficulty: ItemDifficulty | null;
}

export interface ParsedAsset {
  name: string;
  mediaType: string;
  data: Buffer;
}

/** What a file holds, ready to be written as one bank. */
export interface ParsedBank {
  skills: ParsedSkill[];
  items: ParsedItem[];
  assets: ParsedAsset[];
  report: ReportLine[];
}

/** Taken items a report shows: after them, only refusals and notes (a report may have tens of thousands of lines). */
const REPORT_TAKEN_SHOWN = 100;

/** The lines of a report worth showing: every refusal and note, and the first taken items. */
export function shownReport(report: ReportLine[]): ReportLine[] {
  let taken = 0;
  return report.filter((l) => l.outcome !== 'took' || ++taken <= REPORT_TAKEN_SHOWN);
}

export function refusals(bank: ParsedBank): ReportLine[] {
  return bank.report.filter((r) => r.outcome === 'refused');
}

/** Difficulty tags as teachers write them, in English or Bahasa Indonesia (read in any case). */
const DIFFICULTY_WORDS = new Map<string, ItemDifficulty>([
  ['easy', 'easy'], ['medium', 'medium'], ['hard', 'hard'], ['mudah', 'easy'], ['sedang', 'medium'], ['sulit', 'hard'],
]);

/** A skill code from a name: lower-case letters, digits and dashes. */
export function slug(name: string): string {
  const s = name.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
  return s.slice(0, 60) || 'skill';
}

/**
 * Collects what an importer reads: skills by name (created on first mention), items checked against
 * the item schema (and their TeX against KaTeX) as they come, and the line-by-line report.
 */
/**
 * The longest text (stem, choice, hint, feedback, solution) an item may hold, in characters: every
 * page that shows an item, and the import that checks its mathematics, does work that grows with it.
 */
export const MAX_ITEM_TEXT = 20_000;

/** Unique codes from a base: `base`, `base-2`, `base-3`…, each found in constant time. */
class Codes {
  private readonly taken = new Set<string>();
  private readonly next = new Map<string, number>();

  take(base: string): string {
    let n = this.next.get(base) ?? 1;
    let code = n === 1 ? base : `${base}-${n}`;
    while (this.taken.has(code)) code = `${base}-${++n}`;
    this.next.set(base, n + 1);
    this.taken.add(code);
    return code;
  }
}

/** Questions read between two turns of the event loop: a large file is read in steps of bounded work. */
export const IMPORT_STEP = 50;

/** Lets the process serve other requests before going on. */
export const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** `xs` in consecutive slices of at most `size` (rows per statement, ids per `IN (…)`). */
export function chunks<T>(xs: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let start = 0; start < xs.length; start += size) out.push(xs.slice(start, start + size));
  return out;
}

export class BankBuilder {
  readonly bank: ParsedBank = { skills: [], items: [], assets: [], report: [] };
  private readonly skillByName = new Map<string, ParsedSkill>();
  private readonly skillByCode = new Map<string, ParsedSkill>();
  private readonly prerequisitePairs = new Set<string>();
  private readonly assetNames = new Set<string>();
  private readonly skillCodes = new Codes();
  private readonly itemCodes = new Codes();
  private questions = 0;

  /** `checkTex: false` for generated text whose TeX its own tests check (the sample bank, at every start). */
  constructor(private readonly language: string, private readonly opts: { checkTex: boolean } = { checkTex: true }) {}

  report(line: number, outcome: ReportLine['outcome'], key: string, vars: Record<string, string | number> = {}): void {
    this.bank.report.push({ line, outcome, key, vars });
  }

  refuse(line: number, key: string, vars: Record<string, string | number> = {}): void {
    this.report(line, 'refused', key, vars);
  }

  /** The code of the skill named `name`, creating it on first mention. */
  skill(name: string): string {
    const clean = name.trim().replace(/\s+/g, ' ');
    const existing = this.skillByName.get(clean.toLowerCase());
    if (existing) return existing.code;
    const code = this.skillCodes.take(slug(clean));
    const skill: ParsedSkill = { code, name: { [this.language]: clean }, details: {}, prerequisites: [] };
    this.skillByName.set(clean.toLowerCase(), skill);
    this.skillByCode.set(code, skill);
    this.bank.skills.push(skill);
    return code;
  }

  /** Records that skill `code` needs `prerequisite` first (once, and never itself). */
  prerequisite(code: string, prerequisite: string): void {
    const skill = this.skillByCode.get(code);
    const pair = `${code}\u0000${prerequisite}`;
    if (!skill || prerequisite === code || this.prerequisitePairs.has(pair)) return;
    this.prerequisitePairs.add(pair);
    skill.prerequisites.push(prerequisite);
  }

  /** Called by a reader before each question: every {@link IMPORT_STEP} questions, the event loop gets a turn. */
  async step(): Promise<void> {
    if (++this.questions % IMPORT_STEP === 0) await nextTurn();
  }

  /**
   * Validates an item and adds it, or reports why not. Returns whether it was taken. `difficulty` is the
   * teacher's tag as written ('' for none): one Jejak does not know is a note, never a refusal, since the
   * item itself is sound.
   */
  item(line: number, name: string, body: unknown, skills: string[], difficulty = ''): boolean {
    const parsed = itemBodySchema.safeParse(body);
    if (!parsed.success) {
      this.refuse(line, 'invalid_item', { name, problem: describeIssues(parsed.error) });
      return false;
    }
    const texts = allText(parsed.data);
    if (texts.some((t) => t.length > MAX_ITEM_TEXT)) {
      this.refuse(line, 'text_too_long', { name, max: MAX_ITEM_TEXT });
      return false;
    }
    // A student's typed answer is at most MAX_TEXT_RESPONSE characters: a longer accepted answer could never match.
    if ('answers' in parsed.data && parsed.data.answers.some((a) => 'text' in a && a.text.replace(/\*/g, '').length > MAX_TEXT_RESPONSE)) {
      this.refuse(line, 'answer_too_long', { name, max: MAX_TEXT_RESPONSE });
      return false;
    }
    const tex = this.opts.checkTex ? texts.flatMap(texErrors) : [];
    if (tex.length) {
      this.refuse(line, 'bad_tex', { name, problem: tex.join('; ') });
      return false;
    }
    const code = this.itemCodes.take(slug(name).slice(0, 40) || 'item');
    const written = difficulty.trim();
    const tag = DIFFICULTY_WORDS.get(written.toLowerCase()) ?? null;
    this.bank.items.push({ code, line, body: parsed.data, skills: [...new Set(skills)], difficulty: tag });
    this.report(line, 'took', 'took_item', { name, kind: parsed.data.kind });
    if (written !== '' && tag === null) this.report(line, 'note', 'bad_difficulty', { name, value: written });
    return true;
  }

  asset(asset: ParsedAsset): void {
    if (this.assetNames.has(asset.name)) return;
    this.assetNames.add(asset.name);
    this.bank.assets.push(asset);
  }
}

/** Every text of an item, in every language or in `language` only. */
export function allText(b: ItemBody, language?: string): string[] {
  const texts: (LocalizedText | undefined)[] = [b.stem, b.solution, b.generalFeedback, ...b.hints];
  if ('choices' in b) for (const c of b.choices) texts.push(c.text, c.feedback);
  if ('answers' in b) for (const a of b.answers) texts.push(a.feedback);
  if (b.kind === 'truefalse') texts.push(b.feedbackTrue, b.feedbackFalse);
  return texts.flatMap((t) => (!t ? [] : language === undefined ? Object.values(t) : t[language] !== undefined ? [t[language]] : []));
}

/** Image types a bank may hold, recognised by their first bytes (never by the name alone). */
export function imageType(data: Buffer): string | undefined {
  if (data.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'image/png';
  if (data[0] === 0xff && data[1] === 0xd8 && data[2] === 0xff) return 'image/jpeg';
  if (data.subarray(0, 6).toString('latin1') === 'GIF87a' || data.subarray(0, 6).toString('latin1') === 'GIF89a') return 'image/gif';
  if (data.subarray(0, 4).toString('latin1') === 'RIFF' && data.subarray(8, 12).toString('latin1') === 'WEBP') return 'image/webp';
  return undefined;
}
