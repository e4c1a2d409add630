import type { Db } from '../../db/schema';
import { insertReturningId } from '../../db/writes';
import { audit } from '../../db/audit';
import { chunks, nextTurn, refusals, shownReport, slug, type ParsedBank, type ReportLine } from '../import/model';

/**
 * Rows per statement. SQLite allows 999 bound values per statement in older builds (32,766 since
 * 3.32), PostgreSQL 65,535, MariaDB 65,535: an item row binds 8 values, a link 2, so 100 items or 400
 * links stay under the smallest limit whatever the size of the bank.
 */
const ITEM_ROWS = 100;
const LINK_ROWS = 400;

export interface ImportBankProps {
  db: Db;
  /** The tenant (deployment) that owns the bank; null for a bank shipped with Jejak, seen by every tenant. */
  tenantId: number | null;
  /** The course the import was made from, for the audit log (null outside a launch). */
  contextId: string | null;
  /** Who imports, as the audit log names actors: 'lti:<sub>', 'system', 'cli'. */
  actor: string;
  title: string;
  /** Stable code; derived from the title when absent, made unique within the tenant. */
  code?: string;
  /** 'sample', 'moodle-xml', 'gift' or 'csv'. */
  source: string;
  /** What the file held, already parsed and checked. */
  parsed: ParsedBank;
  /** Import what was taken even when some questions were refused (the teacher asked to skip them). */
  skipRefused?: boolean;
  /** Anything else to keep in bank.details (description, the original file name). */
  details?: Record<string, unknown>;
  now?: number;
}

export type ImportBankResult =
  | { ok: true; bankId: number; code: string; report: ReportLine[] }
  | { ok: false; report: ReportLine[] };

/**
 * Writes a parsed bank (bank, skills and prerequisites, items and their skills, images) and an
 * audit_event, all in one transaction: a bank is imported whole or not at all. Refused when the file
 * had refusals (unless `skipRefused`) or nothing to import.
 */
export async function importBank(p: ImportBankProps): Promise<ImportBankResult> {
  const { parsed } = p;
  const report = parsed.report;
  if ((refusals(parsed).length && !p.skipRefused) || parsed.items.length === 0) {
    const why: ReportLine[] = parsed.items.length === 0 ? [{ line: 0, outcome: 'refused', key: 'no_items', vars: {} }] : [];
    return { ok: false, report: [...report, ...why] };
  }
  const now = p.now ?? Date.now();
  const languages = [...new Set(parsed.items.flatMap((i) => i.body.languages))];
  const language = languages.length === 1 ? languages[0]! : 'multi';
  const mainLanguage = parsed.items[0]!.body.languages[0]!;

  const result = await p.db.transaction().execute(async (tx) => {
    const base = p.code ?? slug(p.title);
    const taken = new Set((await tx.selectFrom('bank').select('code')
      .where((eb) => (p.tenantId === null ? eb('tenant_id', 'is', null) : eb('tenant_id', '=', p.tenantId)))
      .where('code', 'like', `${base}%`).execute()).map((r) => r.code));
    let code = base;
    for (let n = 2; taken.has(code); n++) code = `${base}-${n}`;

    const summary = { items: parsed.items.length, skills: parsed.skills.length, refused: refusals(parsed).length };
    const shown = shownReport(report);
    const bankId = await insertReturningId(tx, 'bank', {
      tenant_id: p.tenantId, code, title: p.title, language, source: p.source,
      // The report as shown, not whole: the bank row is read on every view of the bank page.
      details: JSON.stringify({ ...p.details, import: { summary, report: shown, omitted: report.length - shown.length } }),
      created_by: p.actor, created_at: now, updated_at: now,
    });

    // Between statements the event loop gets a turn, so a large bank does not hold up other requests' work.
    const skillIds = new Map<string, number>();
    for (const [position, s] of parsed.skills.entries()) {
      skillIds.set(s.code, await insertReturningId(tx, 'skill', {
        bank_id: bankId, code: s.code, name: s.name[mainLanguage] ?? Object.values(s.name)[0] ?? s.code,
        details: JSON.stringify({ ...s.details, names: s.name }), position,
      }));
      await nextTurn();
    }
    const prerequisites = parsed.skills.flatMap((s) => s.prerequisites.map((pre) => ({ skill_id: skillIds.get(s.code)!, prerequisite_id: skillIds.get(pre)! })));
    for (const rows of chunks(prerequisites, LINK_ROWS)) {
      await tx.insertInto('skill_prerequisite').values(rows).execute();
      await nextTurn();
    }

    for (const [n, batch] of chunks(parsed.items, ITEM_ROWS).entries()) {
      const start = n * ITEM_ROWS;
      await tx.insertInto('item').values(batch.map((it, i) => ({
        bank_id: bankId, code: it.code, kind: it.body.kind, language: it.body.languages.length > 1 ? 'multi' : it.body.languages[0]!,
        body: JSON.stringify(it.body), position: start + i, difficulty: it.difficulty, created_at: now,
      }))).execute();
      // Read back rather than RETURNING, which MySQL lacks (its insertId names only a batch's first row).
      const rows = await tx.selectFrom('item').select(['id', 'code']).where('bank_id', '=', bankId).where('code', 'in', batch.map((it) => it.code)).execute();
      const idOf = new Map(rows.map((r) => [r.code, r.id]));
      const links = batch.flatMap((it) => it.skills.map((s) => ({ item_id: idOf.get(it.code)!, skill_id: skillIds.get(s)! })));
      for (const slice of chunks(links, LINK_ROWS)) await tx.insertInto('item_skill').values(slice).execute();
      await nextTurn();
    }
    for (const a of parsed.assets) {
      await tx.insertInto('bank_asset').values({ bank_id: bankId, name: a.name, media_type: a.mediaType, data: a.data, created_at: now }).execute();
      await nextTurn();
    }
    await audit(tx, {
      tenantId: p.tenantId, contextId: p.contextId, actor: p.actor, action: 'bank.import', subject: `bank:${bankId}`,
      details: { code, title: p.title, source: p.source, ...summary }, at: now,
    });
    return { bankId, code };
  });
  return { ok: true, ...result, report };
}
