import type { LocalizedText } from '../item';
import { escapeHtml, inlineHtml, sanitizeHtml } from '../richtext';
import { BankBuilder, type ParsedBank } from './model';

// Escaped special characters are swapped for private-use characters while parsing, then restored.
const ESCAPES: Record<string, string> = { '\\\\': '\uE000', '\\~': '\uE001', '\\=': '\uE002', '\\#': '\uE003', '\\{': '\uE004', '\\}': '\uE005', '\\:': '\uE006', '\\n': '\uE007' };
const RESTORE: Record<string, string> = { '\uE000': '\\', '\uE001': '~', '\uE002': '=', '\uE003': '#', '\uE004': '{', '\uE005': '}', '\uE006': ':', '\uE007': '\n' };
const protect = (s: string) => s.replace(/\\[\\~=#{}:n]/g, (m) => ESCAPES[m]!);
const restore = (s: string) => s.replace(/[\uE000-\uE007]/g, (m) => RESTORE[m]!);

interface Block {
  /** Line of the block's first line in the file. */
  line: number;
  text: string;
}

/** Questions are separated by blank lines; `//` comment lines are dropped (line numbers kept). */
function blocks(source: string): Block[] {
  const out: Block[] = [];
  let current: { line: number; lines: string[] } | undefined;
  source.split(/\r?\n/).forEach((raw, i) => {
    const isComment = /^\s*\/\//.test(raw);
    if (raw.trim() === '') {
      if (current) out.push({ line: current.line, text: current.lines.join('\n') });
      current = undefined;
      return;
    }
    if (isComment) {
      // A comment keeps its place so that line numbers inside a block stay right.
      if (current) current.lines.push('');
      return;
    }
    current ??= { line: i + 1, lines: [] };
    current.lines.push(raw);
  });
  if (current) out.push({ line: current.line, text: current.lines.join('\n') });
  return out;
}

/** The line, within the file, of character `index` of a block's text. */
const lineAt = (block: Block, text: string, index: number) => block.line + (text.slice(0, index).match(/\n/g)?.length ?? 0);

interface Answer {
  sign: '=' | '~';
  weight: number | undefined;
  text: string;
  feedback: string;
}

/** `=a#fb ~%50%b ~c` → answers (escapes still protected). */
function splitAnswers(body: string): Answer[] {
  return [...body.matchAll(/([=~])([^=~]*)/g)].map((m) => {
    let rest = m[2]!;
    let weight: number | undefined;
    const w = /^%(-?\d+(?:\.\d+)?)%/.exec(rest);
    if (w) {
      weight = Number(w[1]);
      rest = rest.slice(w[0].length);
    }
    const hash = rest.indexOf('#');
    return { sign: m[1] as '=' | '~', weight, text: (hash < 0 ? rest : rest.slice(0, hash)).trim(), feedback: hash < 0 ? '' : rest.slice(hash + 1).trim() };
  });
}

/**
 * Reads a GIFT file: `$CATEGORY:` lines become skills (their last part); multiple choice (one `=`, or
 * several `~%n%` for multiple answers), true/false (`{T}`, `{FALSE#wrong#right}`), short answer (`=`
 * answers only) and numerical (`{#3.5:0.1}`, `{#1..2}`, `{#=3:0.1#fb ~…}`) questions, with feedback
 * (`#`) and general feedback (`####`). Matching and essay questions are refused by line.
 */
export async function readGift(source: string, language: string): Promise<ParsedBank> {
  const b = new BankBuilder(language);
  let category: string | undefined;
  const rich = (raw: string, format: string, inline = false): LocalizedText => {
    const t = restore(raw).trim();
    if (!t) return {};
    let html = format === 'html' || format === 'moodle' ? sanitizeHtml(/<[a-z]/i.test(t) ? t : escapeHtml(t).replace(/\n/g, '<br>')) : escapeHtml(t).replace(/\n/g, '<br>');
    if (inline) html = inlineHtml(html);
    return { [language]: html };
  };
  for (const block of blocks(source.replace(/^\uFEFF/, ''))) {
    await b.step();
    const text = protect(block.text);
    const cat = /^\s*\$CATEGORY:\s*(.*)$/m.exec(text);
    if (cat && text.trim().startsWith('$CATEGORY')) {
      category = restore(cat[1]!).replace(/^\$(course|system|module|cat\d*)\$\/?/, '').split('/').map((s) => s.trim()).filter((s) => s && s !== 'top').at(-1);
      if (category) b.report(block.line, 'note', 'category', { name: category });
      continue;
    }
    const titled = /^\s*::([\s\S]*?)::/.exec(text);
    const title = titled ? restore(titled[1]!).trim() : '';
    let rest = titled ? text.slice(titled[0].length) : text;
    const offset = titled ? titled[0].length : 0;
    const fmt = /^\s*\[(html|moodle|plain|markdown)\]/.exec(rest);
    const format = fmt ? fmt[1]! : 'moodle';
    if (fmt) rest = rest.slice(fmt[0].length);
    if (format === 'markdown') b.report(block.line, 'note', 'markdown_as_text', {});
    const open = rest.indexOf('{');
    const name = title || restore(rest.slice(0, open < 0 ? 40 : Math.min(open, 40))).replace(/\s+/g, ' ').trim() || `line ${block.line}`;
    if (open < 0) {
      b.refuse(block.line, 'gift_no_answers', { name });
      continue;
    }
    const close = rest.indexOf('}', open);
    if (close < 0) {
      b.refuse(lineAt(block, text, offset + (fmt?.[0].length ?? 0) + open), 'gift_unclosed', { name });
      continue;
    }
    if (rest.indexOf('{', open + 1) >= 0 && rest.indexOf('{', open + 1) < close) {
      b.refuse(lineAt(block, text, offset + (fmt?.[0].length ?? 0) + open), 'gift_nested', { name });
      continue;
    }
    const before = rest.slice(0, open).trim();
    const after = rest.slice(close + 1).trim();
    const stem = rich(after ? `${before} _____ ${after}` : before, format);
    let body = rest.slice(open + 1, close).trim();
    let generalFeedback: LocalizedText | undefined;
    const general = body.indexOf('####');
    if (general >= 0) {
      generalFeedback = rich(body.slice(general + 4), format);
      body = body.slice(0, general).trim();
    }
    const skills = [b.skill(category ?? (language === 'id' ? 'Umum' : 'General'))];
    const common = { v: 1, languages: [language], stem, hints: [], ...(generalFeedback?.[language] ? { generalFeedback } : {}) };
    const fb = (s: string) => (s ? { feedback: rich(s, format) } : {});

    if (body === '') {
      b.refuse(block.line, 'unsupported_type', { name, type: 'essay' });
    } else if (body.includes('->')) {
      b.refuse(block.line, 'unsupported_type', { name, type: 'matching' });
    } else if (/^(T|TRUE|F|FALSE)\s*(#|$)/i.test(body)) {
      const [answer, wrong = '', right = ''] = body.split('#').map((s) => s.trim());
      const truth = /^t/i.test(answer!);
      // GIFT gives the feedback for a wrong answer first, then for a right one.
      const forTrue = truth ? right : wrong;
      const forFalse = truth ? wrong : right;
      b.item(block.line, name, {
        ...common, kind: 'truefalse', answer: truth,
        ...(forTrue ? { feedbackTrue: rich(forTrue, format) } : {}), ...(forFalse ? { feedbackFalse: rich(forFalse, format) } : {}),
      }, skills);
    } else if (body.startsWith('#')) {
      const spec = body.slice(1).trim();
      const parts = /^[=~]/.test(spec) ? splitAnswers(spec) : [{ sign: '=' as const, weight: undefined, ...splitFeedback(spec) }];
      const answers = [];
      let bad = false;
      for (const a of parts) {
        const n = numericAnswer(restore(a.text));
        if (!n) {
          b.refuse(block.line, 'bad_number', { name, value: restore(a.text) });
          bad = true;
          break;
        }
        answers.push({ ...n, correct: a.sign === '=' && (a.weight === undefined || a.weight === 100), ...fb(a.feedback) });
      }
      if (!bad) b.item(block.line, name, { ...common, kind: 'numeric', answers, units: [], unitRequired: false }, skills);
    } else {
      const answers = splitAnswers(body);
      const choices = answers.some((a) => a.sign === '~');
      if (!choices) {
        b.item(block.line, name, {
          ...common, kind: 'shortanswer', caseSensitive: false,
          answers: answers.map((a) => ({ match: a.text.includes('*') ? 'wildcard' : 'exact', text: restore(a.text), correct: a.weight === undefined || a.weight === 100, ...fb(a.feedback) })),
        }, skills);
      } else {
        const multi = !answers.some((a) => a.sign === '=') && answers.some((a) => (a.weight ?? 0) > 0);
        b.item(block.line, name, {
          ...common, kind: multi ? 'multiresponse' : 'multichoice',
          choices: answers.map((a, i) => ({
            key: 'abcdefghijklmnopqrstuvwxyz'[i] ?? `c${i}`, text: rich(a.text, format, true),
            correct: multi ? (a.weight ?? 0) > 0 : a.sign === '=', ...fb(a.feedback),
          })),
        }, skills);
      }
    }
  }
  return b.bank;
}

function splitFeedback(s: string): { text: string; feedback: string } {
  const hash = s.indexOf('#');
  return hash < 0 ? { text: s.trim(), feedback: '' } : { text: s.slice(0, hash).trim(), feedback: s.slice(hash + 1).trim() };
}

/** `3.5:0.1` (value and tolerance) or `1..2` (a range). */
function numericAnswer(s: string): { value: number; tolerance: number } | undefined {
  const range = /^(-?[\d.]+)\s*\.\.\s*(-?[\d.]+)$/.exec(s);
  if (range) {
    const [lo, hi] = [Number(range[1]), Number(range[2])];
    return Number.isFinite(lo) && Number.isFinite(hi) && lo <= hi ? { value: (lo + hi) / 2, tolerance: (hi - lo) / 2 } : undefined;
  }
  const m = /^(-?\d+(?:\.\d+)?)(?:\s*:\s*(\d+(?:\.\d+)?))?$/.exec(s);
  return m ? { value: Number(m[1]), tolerance: Number(m[2] ?? 0) } : undefined;
}
