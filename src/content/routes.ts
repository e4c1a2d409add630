import path from 'node:path';
import express, { Router, type NextFunction, type Request, type Response } from 'express';
import multer from 'multer';
import { z } from 'zod';
import type { Db } from '../db/schema';
import type { Renderer } from '../web/render';
import type { LaunchContext } from '../web/session';
import { translate, type Locale } from '../web/i18n';
import { skillName } from './bank-content';
import { importBank } from './commands/importBank';
import { detectFormat, readBankFile } from './import';
import { shownReport, type ReportLine } from './import/model';
import { assetBaseFor, loadItem, renderAnswerKey, renderHint, renderItemForm, renderSolution, shownLanguage, type Item } from './item';
import { escapeHtml, renderRichText, stylesheetsFor } from './richtext';

const MAX_UPLOAD_BYTES = 5 * 1024 * 1024;
const upload = multer({ storage: multer.memoryStorage(), limits: { fileSize: MAX_UPLOAD_BYTES, files: 1, fields: 10 } });

/** KaTeX's stylesheet and fonts, served from the installed package: no CDN. */
export function katexStatic(): Router {
  const dir = path.dirname(require.resolve('katex/dist/katex.min.css'));
  return Router().use('/static/katex', express.static(dir, { maxAge: '30d', index: false, immutable: true }));
}

/** Banks this tenant may see: the shared ones and its own. */
function visibleBanks(db: Db, tenantId: number) {
  return db.selectFrom('bank').where((eb) => eb.or([eb('tenant_id', 'is', null), eb('tenant_id', '=', tenantId)]));
}

const idParam = z.coerce.number().int().positive();
const pageParam = z.coerce.number().int().positive().max(1_000_000);

/** Items listed per page of a bank: a bank may hold tens of thousands. */
export const ITEMS_PER_PAGE = 100;

/** An async page handler whose failures reach express's error page. */
const page = (fn: (req: Request, res: Response, next: NextFunction) => Promise<unknown>) =>
  (req: Request, res: Response, next: NextFunction) => void fn(req, res, next).catch(next);

/**
 * The teacher's bank pages (list, import, bank with its skills and item statistics, item preview) and
 * the bank images every role of the tenant may load, under /s/:sid/content/.
 */
export function contentRoutes(d: { db: Db; render: Renderer }): Router {
  const { db, render } = d;
  const r = Router({ mergeParams: true });
  const launchOf = (res: Response): LaunchContext => res.locals.launch!;

  r.get('/content/assets/:bankId/:name', page(async (req, res, next) => {
      const bankId = idParam.safeParse(req.params.bankId);
      const bank = bankId.success ? await visibleBanks(db, launchOf(res).tenantId).select('id').where('id', '=', bankId.data).executeTakeFirst() : undefined;
      const asset = bank && await db.selectFrom('bank_asset').select(['media_type', 'data']).where('bank_id', '=', bank.id).where('name', '=', encodeURIComponent(req.params.name!)).executeTakeFirst();
      if (!asset) return next();
      res.set('cache-control', 'private, max-age=86400').type(asset.media_type).send(asset.data);
  }));

  r.get('/content/banks', page(async (_req, res) => {
    const launch = launchOf(res);
    const banks = await visibleBanks(db, launch.tenantId)
      .select((eb) => ['id', 'title', 'source', 'tenant_id',
        eb.selectFrom('item').whereRef('item.bank_id', '=', 'bank.id').select((e) => e.fn.countAll<number>().as('n')).as('items'),
        eb.selectFrom('skill').whereRef('skill.bank_id', '=', 'bank.id').select((e) => e.fn.countAll<number>().as('n')).as('skills'),
      ]).orderBy('tenant_id', 'desc').orderBy('created_at', 'desc').execute();
    render(res, 'content/banks', {
      locale: launch.locale, title: translate(launch.locale, 'content.banks.title'),
      banks: banks.map((b) => ({ ...b, items: Number(b.items), skills: Number(b.skills), shared: b.tenant_id === null, sourceKey: `content.banks.source_${b.source}` })),
    });
  }));

  r.get('/content/banks/import', (_req, res) => showImportForm(res, launchOf(res).locale));

  const showImportForm = (res: Response, locale: Locale, extra: { problem?: string; report?: ReportView[]; reportMore?: number; canSkip?: boolean; language?: string; bankTitle?: string } = {}, status = 200) =>
    render(res, 'content/import', {
      locale, title: translate(locale, 'content.import.title'), mb: MAX_UPLOAD_BYTES / 1024 / 1024,
      language: extra.language ?? locale, ...extra,
    }, status);

  r.post('/content/banks/import', (req: Request, res: Response, next) => {
    const launch = launchOf(res);
    const locale = launch.locale;
    upload.single('file')(req, res, async (err: unknown) => {
      try {
        const form = z.object({ title: z.string().max(200).default(''), language: z.enum(['id', 'en']).default(locale), skip: z.string().optional() })
          .safeParse(req.body ?? {});
        const fields = form.success ? form.data : { title: '', language: locale, skip: undefined };
        const again = { language: fields.language, bankTitle: fields.title };
        if (err) {
          const tooLarge = err instanceof multer.MulterError && err.code === 'LIMIT_FILE_SIZE';
          return showImportForm(res, locale, { ...again, problem: translate(locale, tooLarge ? 'content.import.too_large' : 'content.import.no_file', { mb: MAX_UPLOAD_BYTES / 1024 / 1024 }) }, tooLarge ? 413 : 400);
        }
        const file = req.file;
        if (!file || file.size === 0) return showImportForm(res, locale, { ...again, problem: translate(locale, 'content.import.no_file') }, 400);
        let text: string;
        try {
          text = new TextDecoder('utf-8', { fatal: true }).decode(file.buffer);
        } catch {
          return showImportForm(res, locale, { ...again, problem: translate(locale, 'content.import.not_utf8') }, 400);
        }
        // Multer hands the file name over as latin1 bytes.
        const fileName = Buffer.from(file.originalname, 'latin1').toString('utf8');
        const format = detectFormat(fileName, text);
        if (!format) return showImportForm(res, locale, { ...again, problem: translate(locale, 'content.import.unknown_format') }, 400);
        const parsed = await readBankFile(format, text, fields.language);
        const result = await importBank({
          db, tenantId: launch.tenantId, contextId: launch.contextId, actor: `lti:${launch.userSub}`, source: format,
          title: fields.title.trim() || fileName.replace(/\.[a-z]+$/i, '') || format, parsed, skipRefused: fields.skip === 'yes',
          details: { fileName },
        });
        if (!result.ok) {
          const shown = shownReport(result.report);
          return showImportForm(res, locale, {
            ...again, problem: translate(locale, 'content.import.refused'), report: reportView(shown, locale), reportMore: result.report.length - shown.length, canSkip: parsed.items.length > 0,
          }, 422);
        }
        res.redirect(303, `/s/${launch.sessionId}/content/banks/${result.bankId}?imported=1`);
      } catch (e) {
        next(e);
      }
    });
  });

  r.get('/content/banks/:bankId', page(async (req, res, next) => {
    const launch = launchOf(res);
    const bankId = idParam.safeParse(req.params.bankId);
    const bank = bankId.success ? await visibleBanks(db, launch.tenantId).selectAll().where('id', '=', bankId.data).executeTakeFirst() : undefined;
    if (!bank) return next();
    const locale = launch.locale;
    const skills = await db.selectFrom('skill').selectAll().where('bank_id', '=', bank.id).orderBy('position').execute();
    const byId = new Map(skills.map((s) => [s.id, s]));
    const needs = new Map<number, number[]>();
    // By the bank, not by a list of its skills' ids: a list could exceed a database's bound-value limit.
    const prereqs = await db.selectFrom('skill_prerequisite').innerJoin('skill', 'skill.id', 'skill_prerequisite.skill_id')
      .select(['skill_prerequisite.skill_id', 'skill_prerequisite.prerequisite_id']).where('skill.bank_id', '=', bank.id).execute();
    for (const p of prereqs) needs.set(p.skill_id, [...(needs.get(p.skill_id) ?? []), p.prerequisite_id]);
    const nameOf = (s: (typeof skills)[number]) => skillName(s.name, s.details, locale);
    const total = Number((await db.selectFrom('item').select((e) => e.fn.countAll<number>().as('n')).where('bank_id', '=', bank.id).executeTakeFirstOrThrow()).n);
    const pages = Math.max(1, Math.ceil(total / ITEMS_PER_PAGE));
    const pageNo = Math.min(pages, pageParam.catch(1).parse(req.query.page));
    const items = await db.selectFrom('item').select(['id', 'code', 'kind']).where('bank_id', '=', bank.id).orderBy('position').orderBy('id')
      .limit(ITEMS_PER_PAGE).offset((pageNo - 1) * ITEMS_PER_PAGE).execute();
    const stats = await itemStats(db, launch.tenantId, items.map((i) => i.id));
    const details = JSON.parse(bank.details) as { import?: { report?: ReportLine[]; omitted?: number } };
    const report = req.query.imported === '1' ? details.import?.report : undefined;
    const shown = report && shownReport(report);
    render(res, 'content/bank', {
      locale, title: bank.title, bank, imported: req.query.imported === '1',
      report: shown && reportView(shown, locale),
      reportMore: report && shown ? report.length - shown.length + (details.import?.omitted ?? 0) : 0,
      page: {
        from: total ? (pageNo - 1) * ITEMS_PER_PAGE + 1 : 0, to: (pageNo - 1) * ITEMS_PER_PAGE + items.length, total, number: pageNo, pages, several: pages > 1,
        previous: pageNo > 1 ? pageNo - 1 : undefined, next: pageNo < pages ? pageNo + 1 : undefined,
      },
      skills: skills.map((s) => {
        const curriculum = (JSON.parse(s.details).curriculum ?? []) as { phase: string; outcome: Record<string, string> }[];
        return {
          code: s.code, name: nameOf(s),
          needs: (needs.get(s.id) ?? []).map((id) => byId.get(id)).filter((x) => !!x).map((x) => nameOf(x!)).join(', '),
          serves: curriculum.map((c) => ({ phase: c.phase, outcome: c.outcome[locale] ?? Object.values(c.outcome)[0] })),
        };
      }),
      items: items.map((i) => ({ ...i, kindKey: `content.kinds.${i.kind}`, ...statsView(stats.get(i.id), locale) })),
    });
  }));

  r.get('/content/banks/:bankId/items/:itemId', page(async (req, res, next) => {
    const launch = launchOf(res);
    const bankId = idParam.safeParse(req.params.bankId);
    const itemId = idParam.safeParse(req.params.itemId);
    const bank = bankId.success ? await visibleBanks(db, launch.tenantId).select(['id', 'title']).where('id', '=', bankId.data).executeTakeFirst() : undefined;
    const row = bank && itemId.success ? await db.selectFrom('item').selectAll().where('bank_id', '=', bank.id).where('id', '=', itemId.data).executeTakeFirst() : undefined;
    if (!bank || !row) return next();
    const locale = launch.locale;
    const item = loadItem(row);
    const show = { assetBase: assetBaseFor(launch.sessionId) };
    const skills = await db.selectFrom('item_skill').innerJoin('skill', 'skill.id', 'item_skill.skill_id').select(['skill.name', 'skill.details'])
      .where('item_skill.item_id', '=', item.id).execute();
    const stats = (await itemStats(db, launch.tenantId, [item.id])).get(item.id);
    const view = previewView(item, locale, show.assetBase);
    render(res, 'content/item', {
      locale, title: translate(locale, 'content.preview.title', { code: item.code }), bank,
      item: {
        code: item.code, kindKey: `content.kinds.${item.kind}`, languages: item.languages.join(', '),
        difficulty: row.difficulty ? translate(locale, `content.difficulty.${row.difficulty}`) : undefined,
      },
      stylesheets: stylesheetsFor(view.form, view.solution, ...view.hints, ...view.feedback.map((f) => f.html)),
      skills: skills.map((s) => skillName(s.name, s.details, locale)).join(', '),
      stats: stats ? statsView(stats, locale) : undefined,
      ...view,
    });
  }));
  return r;
}

interface ReportView {
  line: number | string;
  outcome: string;
  outcomeKey: string;
  message: string;
}

function reportView(report: ReportLine[], locale: Locale): ReportView[] {
  const outcomeKey = { took: 'content.import.took', refused: 'content.import.refused_one', note: 'content.import.note' } as const;
  return report.map((l) => ({
    line: l.line || '—', outcome: l.outcome, outcomeKey: outcomeKey[l.outcome],
    message: translate(locale, `content.import.msg.${l.key}`, { ...l.vars, kind: l.vars.kind ? translate(locale, `content.kinds.${l.vars.kind}`) : undefined }),
  }));
}

interface ItemStats {
  attempts: number;
  correct: number;
  medianMs: number;
}

/** Attempts, correct answers and median time per item, from this tenant's students (previews left out). */
async function itemStats(db: Db, tenantId: number, itemIds: number[]): Promise<Map<number, ItemStats>> {
  const out = new Map<number, ItemStats>();
  if (!itemIds.length) return out;
  const rows = await db.selectFrom('attempt').select(['item_id', 'correct', 'duration_ms'])
    .where('tenant_id', '=', tenantId).where('preview', '=', 0).where('item_id', 'in', itemIds).execute();
  const byItem = new Map<number, { correct: number; durations: number[] }>();
  for (const row of rows) {
    const s = byItem.get(row.item_id) ?? { correct: 0, durations: [] };
    s.correct += row.correct ? 1 : 0;
    s.durations.push(Number(row.duration_ms));
    byItem.set(row.item_id, s);
  }
  for (const [id, s] of byItem) {
    const sorted = s.durations.sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
    out.set(id, { attempts: sorted.length, correct: s.correct, medianMs: median });
  }
  return out;
}

function statsView(s: ItemStats | undefined, locale: Locale) {
  if (!s) return { attempts: 0, rate: '—', time: '—' };
  return {
    attempts: s.attempts,
    rate: `${Math.round((100 * s.correct) / s.attempts)}%`,
    time: translate(locale, 'content.bank.seconds', { n: Math.round(s.medianMs / 100) / 10 }),
  };
}

/** The preview: the item as a student sees it, then everything a teacher checks. */
function previewView(item: Item, locale: Locale, assetBase: string) {
  const lang = shownLanguage(item, locale);
  const show = (t: Record<string, string> | undefined) => (t ? renderRichText(t[lang] ?? Object.values(t)[0] ?? '', `${assetBase}/${item.bankId}`) : '');
  const feedback = 'choices' in item
    ? item.choices.map((c) => ({ label: show(c.text), correct: c.correct, html: show(c.feedback) }))
    : 'answers' in item
      // An accepted answer is plain text as typed in the bank (a short answer may hold "<"): escaped.
      ? item.answers.map((a) => ({ label: escapeHtml('value' in a ? String(a.value) : a.text), correct: a.correct, html: show(a.feedback) }))
      : [{ label: escapeHtml(translate(locale, 'content.item.true')), correct: item.answer, html: show(item.feedbackTrue) }, { label: escapeHtml(translate(locale, 'content.item.false')), correct: !item.answer, html: show(item.feedbackFalse) }];
  return {
    form: renderItemForm(item, locale, { namePrefix: 'preview-', assetBase }),
    answerKey: renderAnswerKey(item, locale, { assetBase }),
    feedback,
    choiceKinds: 'choices' in item,
    hints: item.hints.map((_, i) => renderHint(item, i, locale, { assetBase })),
    solution: renderSolution(item, locale, { assetBase }),
    generalFeedback: show(item.generalFeedback),
  };
}
