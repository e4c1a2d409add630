import { SaxesParser } from 'saxes';
import type { LocalizedText } from '../item';
import { escapeHtml, inlineHtml, sanitizeHtml } from '../richtext';
import { BankBuilder, imageType, nextTurn, type ParsedBank } from './model';

/** An XML element with the line it starts on. */
interface El {
  name: string;
  attrs: Record<string, string>;
  children: El[];
  text: string;
  line: number;
}

const MAX_IMAGE_BYTES = 2 * 1024 * 1024;

/** Characters handed to the XML parser at a time, the event loop getting a turn between them. */
const XML_CHUNK = 256 * 1024;

/** Parses the whole document into elements, or says at which line it is not well-formed XML. */
async function parseXml(xml: string): Promise<{ root: El } | { error: string; line: number }> {
  const parser = new SaxesParser({ xmlns: false, position: true });
  const stack: El[] = [{ name: '#document', attrs: {}, children: [], text: '', line: 1 }];
  let failure: { error: string; line: number } | undefined;
  parser.on('opentag', (tag) => {
    const el: El = { name: tag.name, attrs: tag.attributes as Record<string, string>, children: [], text: '', line: parser.line };
    stack.at(-1)!.children.push(el);
    if (!tag.isSelfClosing) stack.push(el);
  });
  parser.on('closetag', (tag) => {
    if (!tag.isSelfClosing) stack.pop();
  });
  parser.on('text', (t) => (stack.at(-1)!.text += t));
  parser.on('cdata', (t) => (stack.at(-1)!.text += t));
  parser.on('error', (e) => {
    failure ??= { error: e.message.replace(/^[^:]*:\d+:\d+: /, ''), line: parser.line };
  });
  try {
    for (let at = 0; at < xml.length && !failure;) {
      let end = Math.min(xml.length, at + XML_CHUNK);
      // Never split a surrogate pair between two chunks.
      if (end < xml.length && /[\uD800-\uDBFF]/.test(xml[end - 1]!)) end++;
      parser.write(xml.slice(at, end));
      at = end;
      if (at < xml.length) await nextTurn();
    }
    parser.close();
  } catch (e) {
    failure ??= { error: (e as Error).message.replace(/^[^:]*:\d+:\d+: /, ''), line: parser.line };
  }
  return failure ?? { root: stack[0]! };
}

const child = (el: El | undefined, name: string) => el?.children.find((c) => c.name === name);
const children = (el: El, name: string) => el.children.filter((c) => c.name === name);
const textOf = (el: El | undefined) => child(el, 'text')?.text.trim() ?? '';

/**
 * Reads a Moodle XML question export: categories become skills (the last part of the category path),
 * a tag `skill:NAME` adds a skill to a question, a tag `difficulty:easy` (medium, hard; or mudah,
 * sedang, sulit) is the teacher's difficulty tag; multichoice (single and multiple answer), truefalse,
 * numerical (tolerance, units) and shortanswer questions with their feedback and hints. Embedded
 * images (`@@PLUGINFILE@@/name`) are kept with the bank. Other question types are refused by line.
 */
export async function readMoodleXml(xml: string, language: string): Promise<ParsedBank> {
  const b = new BankBuilder(language);
  const doc = await parseXml(xml);
  if ('error' in doc) {
    b.refuse(doc.line, 'xml_malformed', { problem: doc.error });
    return b.bank;
  }
  const quiz = child(doc.root, 'quiz');
  if (!quiz) {
    b.refuse(doc.root.children[0]?.line ?? 1, 'xml_not_quiz');
    return b.bank;
  }
  let category: string | undefined;
  for (const q of children(quiz, 'question')) {
    await b.step();
    const type = q.attrs.type ?? '';
    if (type === 'category') {
      const path = textOf(child(q, 'category')).replace(/^\$(course|system|module|cat\d*)\$\/?/, '').split('/').map((s) => s.trim()).filter((s) => s && s !== 'top');
      category = path.at(-1);
      if (category) b.report(q.line, 'note', 'category', { name: category });
      continue;
    }
    const name = textOf(child(q, 'name')) || `line ${q.line}`;
    const read = new QuestionReader(b, q, language);
    const tags = children(child(q, 'tags') ?? q, 'tag').map(textOf);
    const skills = [
      ...(category ? [b.skill(category)] : []),
      ...tags.filter((t) => /^skill:/i.test(t)).map((t) => b.skill(t.slice(6))),
    ];
    const difficulty = tags.find((t) => /^difficulty:/i.test(t))?.slice('difficulty:'.length) ?? '';
    if (!skills.length) skills.push(b.skill(language === 'id' ? 'Umum' : 'General'));
    const common = {
      v: 1, languages: [language], stem: read.rich(child(q, 'questiontext')),
      hints: children(q, 'hint').map((h) => read.rich(h)).filter((h) => h[language]),
      ...read.optional('generalfeedback', 'generalFeedback'),
    };
    switch (type) {
      case 'multichoice': {
        const single = !['false', '0'].includes(child(q, 'single')?.text.trim() ?? 'true');
        const answers = children(q, 'answer');
        const fractions = answers.map((a) => Number(a.attrs.fraction ?? '0'));
        if (single && fractions.some((f) => f > 0 && f < 100)) b.report(q.line, 'note', 'partial_credit', { name });
        const choices = answers.map((a, i) => ({
          key: 'abcdefghijklmnopqrstuvwxyz'[i] ?? `c${i}`,
          text: read.rich(a, true),
          correct: single ? fractions[i] === 100 : fractions[i]! > 0,
          ...read.feedback(a),
        }));
        b.item(q.line, name, { ...common, kind: single ? 'multichoice' : 'multiresponse', choices }, skills, difficulty);
        break;
      }
      case 'truefalse': {
        const answers = children(q, 'answer');
        const truth = answers.find((a) => textOf(a).toLowerCase() === 'true');
        const falsity = answers.find((a) => textOf(a).toLowerCase() === 'false');
        if (!truth || !falsity) {
          b.refuse(q.line, 'tf_answers', { name });
          break;
        }
        b.item(q.line, name, {
          ...common, kind: 'truefalse', answer: Number(truth.attrs.fraction) === 100,
          ...(read.feedback(truth).feedback ? { feedbackTrue: read.feedback(truth).feedback } : {}),
          ...(read.feedback(falsity).feedback ? { feedbackFalse: read.feedback(falsity).feedback } : {}),
        }, skills, difficulty);
        break;
      }
      case 'numerical': {
        const answers = [];
        let bad = false;
        for (const a of children(q, 'answer')) {
          const raw = textOf(a);
          // "*" is Moodle's "any other answer": its feedback is the general wrong-answer feedback.
          if (raw === '*') continue;
          const value = Number(raw);
          const tolerance = Number(child(a, 'tolerance')?.text.trim() || '0');
          if (!Number.isFinite(value) || !Number.isFinite(tolerance)) {
            b.refuse(a.line, 'bad_number', { name, value: raw });
            bad = true;
            continue;
          }
          answers.push({ value, tolerance: Math.abs(tolerance), correct: Number(a.attrs.fraction) === 100, ...read.feedback(a) });
        }
        if (bad) break;
        const units = children(child(q, 'units') ?? q, 'unit').map((u) => ({
          name: child(u, 'unit_name')?.text.trim() ?? '', multiplier: Number(child(u, 'multiplier')?.text.trim() ?? '1'),
        }));
        const unitGrading = Number(child(q, 'unitgradingtype')?.text.trim() ?? '0');
        b.item(q.line, name, { ...common, kind: 'numeric', answers, units, unitRequired: unitGrading > 0 }, skills, difficulty);
        break;
      }
      case 'shortanswer': {
        const answers = children(q, 'answer').map((a) => {
          const t = textOf(a);
          return { match: t.includes('*') ? 'wildcard' : 'exact', text: t, correct: Number(a.attrs.fraction) === 100, ...read.feedback(a) };
        }).filter((a) => a.text !== '*' || !a.correct);
        b.item(q.line, name, { ...common, kind: 'shortanswer', answers, caseSensitive: child(q, 'usecase')?.text.trim() === '1' }, skills, difficulty);
        break;
      }
      default:
        b.refuse(q.line, 'unsupported_type', { name, type: type || '?' });
    }
  }
  return b.bank;
}

/** Reads the rich-text parts of one question, keeping its embedded images. */
class QuestionReader {
  constructor(private readonly b: BankBuilder, private readonly q: El, private readonly language: string) {}

  /** An element's <text> (in its `format`) as sanitised HTML, images collected. */
  rich(el: El | undefined, inline = false): LocalizedText {
    if (!el) return {};
    const raw = textOf(el);
    const format = el.attrs.format ?? 'html';
    for (const f of children(el, 'file')) this.image(f);
    let html = format === 'html' || format === 'moodle_auto_format' ? sanitizeHtml(raw.replace(/@@PLUGINFILE@@\//g, 'asset:')) : escapeHtml(raw).replace(/\n/g, '<br>');
    if (format === 'markdown') this.b.report(el.line, 'note', 'markdown_as_text', {});
    if (inline) html = inlineHtml(html);
    return html ? { [this.language]: html } : {};
  }

  feedback(answer: El): { feedback?: LocalizedText } {
    const f = this.rich(child(answer, 'feedback'));
    return f[this.language] ? { feedback: f } : {};
  }

  optional(element: string, field: string): Record<string, LocalizedText> {
    const t = this.rich(child(this.q, element));
    return t[this.language] ? { [field]: t } : {};
  }

  private image(f: El): void {
    const name = f.attrs.name ?? '';
    const data = Buffer.from(f.text.replace(/\s+/g, ''), 'base64');
    const mediaType = imageType(data);
    if (!mediaType) return this.b.refuse(f.line, 'bad_image', { name });
    if (data.length > MAX_IMAGE_BYTES) return this.b.refuse(f.line, 'image_too_large', { name, mb: MAX_IMAGE_BYTES / 1024 / 1024 });
    this.b.asset({ name: encodeURIComponent(name), mediaType, data });
  }
}
