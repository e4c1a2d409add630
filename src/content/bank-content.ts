/**
 * What practice and knowledge tracing read of a bank on every page — its skills, which items practise
 * which skills, and the items' bodies — kept in memory by each process.
 *
 * A bank never changes once imported: `importBank` writes it whole in one transaction and nothing
 * updates or deletes its skills or items (a new version of a bank is a new import, with new ids). So
 * what was read once stays true for as long as the process runs, and these caches need no
 * invalidation across processes. They are bounded (least recently used first out), so a district
 * with many banks keeps only the ones in use.
 */
import type { Db } from '../db/schema';
import { Lru } from '../lru';
import type { Locale } from '../web/i18n';
import { loadItem, type Item, type ItemDifficulty } from './item';

export interface BankSkillRow {
  id: number;
  code: string;
  name: string;
  /** skill.details (JSON: translated names and more). */
  details: string;
  position: number;
  /** Ids of the skills this one builds on. */
  prerequisites: number[];
}

export interface BankItemSkills {
  id: number;
  position: number;
  /** Ascending. */
  skillIds: number[];
  /** The teacher's difficulty tag; null when untagged. */
  difficulty: ItemDifficulty | null;
}

export interface BankContent {
  id: number;
  /** In the bank's order (position, then id). */
  skills: BankSkillRow[];
  /** The skills' ids, ascending. */
  skillIds: number[];
  /** Every item of the bank with its skills, by item id (ascending). */
  items: Map<number, BankItemSkills>;
}

/** A bank's skills and prerequisites, in the bank's order. */
export async function readBankSkills(db: Db, bankId: number): Promise<BankSkillRow[]> {
  const rows = await db.selectFrom('skill').select(['id', 'code', 'name', 'details', 'position']).where('bank_id', '=', bankId)
    .orderBy('position').orderBy('id').execute();
  // By the bank, not by a list of its skills' ids: a list could exceed a database's bound-value limit.
  const prereqs = await db.selectFrom('skill_prerequisite').innerJoin('skill', 'skill.id', 'skill_prerequisite.skill_id')
    .select(['skill_prerequisite.skill_id', 'skill_prerequisite.prerequisite_id']).where('skill.bank_id', '=', bankId).execute();
  const needs = new Map<number, number[]>();
  for (const p of prereqs) needs.set(p.skill_id, [...(needs.get(p.skill_id) ?? []), p.prerequisite_id]);
  return rows.map((r) => ({ ...r, prerequisites: needs.get(r.id) ?? [] }));
}

/** A bank's content as it is in the database now (the cache below keeps it; calibration reads it afresh). */
export async function readBankContent(db: Db, bankId: number): Promise<BankContent> {
  const [skills, links] = await Promise.all([
    readBankSkills(db, bankId),
    db.selectFrom('item').leftJoin('item_skill', 'item_skill.item_id', 'item.id')
      .select(['item.id', 'item.position', 'item.difficulty', 'item_skill.skill_id']).where('item.bank_id', '=', bankId)
      .orderBy('item.id').orderBy('item_skill.skill_id').execute(),
  ]);
  const items = new Map<number, BankItemSkills>();
  for (const r of links) {
    let item = items.get(r.id);
    if (!item) items.set(r.id, (item = { id: r.id, position: r.position, difficulty: r.difficulty, skillIds: [] }));
    if (r.skill_id !== null) item.skillIds.push(r.skill_id);
  }
  return { id: bankId, skills, skillIds: skills.map((s) => s.id).sort((a, b) => a - b), items };
}

/** One process's cache of bank content and item bodies (one per running Jejak, over its database). */
export class BankContents {
  private readonly banks: Lru<number, Promise<BankContent>>;
  private readonly bodies: Lru<number, Item>;

  constructor(opts: { banks?: number; items?: number } = {}) {
    this.banks = new Lru(opts.banks ?? 32);
    this.bodies = new Lru(opts.items ?? 4000);
  }

  /** The bank's skills and item→skill map; read once per process. */
  bank(db: Db, bankId: number): Promise<BankContent> {
    const cached = this.banks.get(bankId);
    if (cached) return cached;
    // The promise is kept, so concurrent first readers share one read; a failed read is not kept.
    const reading = readBankContent(db, bankId);
    reading.catch(() => this.banks.delete(bankId));
    this.banks.set(bankId, reading);
    return reading;
  }

  /** An item, parsed and validated; throws when there is no such item. */
  async item(db: Db, itemId: number): Promise<Item> {
    const hit = this.bodies.get(itemId);
    if (hit) return hit;
    const item = loadItem(await db.selectFrom('item').select(['id', 'bank_id', 'code', 'kind', 'body']).where('id', '=', itemId).executeTakeFirstOrThrow());
    this.bodies.set(itemId, item);
    return item;
  }
}

/** A bank's or skill's `details` JSON as an object ({} when unreadable: details only ever add to what is shown). */
export function detailsOf(json: string): Record<string, unknown> {
  try {
    const d: unknown = JSON.parse(json);
    return d && typeof d === 'object' ? d as Record<string, unknown> : {};
  } catch {
    return {};
  }
}

/** A text given per language ({ "en": "…", "id": "…" }) in the viewer's language; a plain string as it is. */
export function localised(v: unknown, locale: Locale): string | undefined {
  if (typeof v === 'string') return v || undefined;
  const t = v && typeof v === 'object' ? (v as Record<string, unknown>)[locale] : undefined;
  return typeof t === 'string' && t ? t : undefined;
}

/** A skill's name in the viewer's language: skill.details may carry { "names": { "en": "…", "id": "…" } }. */
export function skillName(name: string, details: string, locale: Locale): string {
  const names = detailsOf(details).names;
  return (names && typeof names === 'object' ? localised(names, locale) : undefined) ?? name;
}
