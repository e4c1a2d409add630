import type { Selectable } from 'kysely';
import type { ActivityTable, Db } from '../db/schema';
import { detailsOf, localised, readBankSkills, skillName, type BankSkillRow } from '../content/bank-content';
import { insertReturningId, upsert } from '../db/writes';
import { randomToken } from '../crypto';
import { CLAIM } from '../lti/claims';
import type { LaunchContext } from '../web/session';
import type { Locale } from '../web/i18n';
import { ActivitySettings, parseSettings } from './settings';

/** The custom parameter a placed activity carries: the activity's opaque resource id. */
export const ACTIVITY_PARAM = 'jejak_activity';

export interface Activity {
  id: number;
  tenantId: number;
  contextId: string;
  bankId: number;
  title: string;
  settings: ActivitySettings;
  resourceId: string;
  /** The gradebook column the LMS made for the activity's link (AGS `lineitem`), once a launch named it. */
  lineItemUrl: string | null;
}

export interface BankSkill {
  id: number;
  code: string;
  name: string;
  position: number;
  prerequisites: number[];
}

export interface BankSummary {
  id: number;
  title: string;
  skills: BankSkill[];
  /** Items in the bank. */
  items: number;
  /** Per skill id, the items that practise it. */
  skillItems: Map<number, number>;
  /** bank.details.description in the viewer's language, when the bank has one (the sample bank's names its grades). */
  description?: string;
}

/** The banks a tenant may use (its own and those shipped with Jejak), with their skills and sizes. */
export async function banksFor(db: Db, tenantId: number, locale: Locale): Promise<BankSummary[]> {
  const banks = await db.selectFrom('bank').select(['id', 'title', 'details'])
    .where((eb) => eb.or([eb('tenant_id', 'is', null), eb('tenant_id', '=', tenantId)]))
    .orderBy('title').orderBy('id').execute();
  const out: BankSummary[] = [];
  for (const b of banks) {
    const [skills, items, perSkill] = await Promise.all([
      bankSkills(db, b.id, locale),
      db.selectFrom('item').select((eb) => eb.fn.countAll<number | string>().as('n')).where('bank_id', '=', b.id).executeTakeFirstOrThrow(),
      db.selectFrom('item_skill').innerJoin('item', 'item.id', 'item_skill.item_id').select((eb) => ['item_skill.skill_id', eb.fn.countAll<number | string>().as('n')])
        .where('item.bank_id', '=', b.id).groupBy('item_skill.skill_id').execute(),
    ]);
    // Counts come back as strings from PostgreSQL and MariaDB.
    out.push({
      id: b.id, title: b.title, skills, items: Number(items.n), skillItems: new Map(perSkill.map((r) => [r.skill_id, Number(r.n)])),
      description: localised(detailsOf(b.details).description, locale),
    });
  }
  return out;
}

/** A bank's skills in the bank's order, named in the viewer's language when the bank has it. */
export async function bankSkills(db: Db, bankId: number, locale: Locale): Promise<BankSkill[]> {
  return localisedSkills(await readBankSkills(db, bankId), locale);
}

export function localisedSkills(rows: readonly BankSkillRow[], locale: Locale): BankSkill[] {
  return rows.map((r) => ({ id: r.id, code: r.code, position: r.position, name: skillName(r.name, r.details, locale), prerequisites: r.prerequisites }));
}

export class InvalidActivity extends Error {}

/** Stores a new activity of a course; its skills must belong to a bank the tenant may use. */
export async function createActivity(db: Db, a: { tenantId: number; contextId: string; bankId: number; title: string; settings: ActivitySettings; createdBy: string }): Promise<Activity> {
  const bank = await db.selectFrom('bank').select('id').where('id', '=', a.bankId)
    .where((eb) => eb.or([eb('tenant_id', 'is', null), eb('tenant_id', '=', a.tenantId)])).executeTakeFirst();
  if (!bank) throw new InvalidActivity(`bank ${a.bankId} is not available to tenant ${a.tenantId}`);
  const skills = await db.selectFrom('skill').select('id').where('bank_id', '=', a.bankId).where('id', 'in', a.settings.skillIds).execute();
  if (skills.length !== new Set(a.settings.skillIds).size) throw new InvalidActivity('a chosen skill is not in the bank');
  const resourceId = `jejak-${randomToken(12)}`;
  const id = await insertReturningId(db, 'activity', {
    tenant_id: a.tenantId, context_id: a.contextId, bank_id: a.bankId, title: a.title, settings: JSON.stringify(a.settings),
    resource_id: resourceId, line_item_url: null, created_by: a.createdBy, created_at: Date.now(),
  });
  return { id, tenantId: a.tenantId, contextId: a.contextId, bankId: a.bankId, title: a.title, settings: a.settings, resourceId, lineItemUrl: null };
}

export async function linkActivity(db: Db, tenantId: number, contextId: string, resourceLinkId: string, activityId: number): Promise<void> {
  await upsert(db, 'activity_link', { tenant_id: tenantId, resource_link_id: resourceLinkId, activity_id: activityId, context_id: contextId },
    ['tenant_id', 'resource_link_id'], { activity_id: activityId, context_id: contextId });
}

function toActivity(r: Selectable<ActivityTable>): Activity {
  return {
    id: r.id, tenantId: r.tenant_id, contextId: r.context_id, bankId: r.bank_id, title: r.title, settings: parseSettings(r.settings),
    resourceId: r.resource_id, lineItemUrl: r.line_item_url,
  };
}

export async function loadActivity(db: Db, tenantId: number, activityId: number): Promise<Activity | undefined> {
  const r = await db.selectFrom('activity').selectAll().where('tenant_id', '=', tenantId).where('id', '=', activityId).executeTakeFirst();
  return r && toActivity(r);
}

/**
 * The activity a resource-link launch opens: the one linked to the resource link; else, on the first
 * launch of a link placed by Jejak, the activity its custom parameter names, linked now. A link copied
 * into another course (course copy, backup/restore) names an activity of that other course: the course
 * gets its own copy of the settings, so its students, grades and line item stay its own.
 */
export async function activityForLaunch(db: Db, launch: LaunchContext): Promise<Activity | undefined> {
  if (!launch.resourceLinkId) return undefined;
  // Every page behind a launch asks this: one statement in the usual case.
  const linked = await db.selectFrom('activity_link').innerJoin('activity', 'activity.id', 'activity_link.activity_id')
    .selectAll('activity')
    .where('activity_link.tenant_id', '=', launch.tenantId).where('activity_link.resource_link_id', '=', launch.resourceLinkId)
    .where('activity.tenant_id', '=', launch.tenantId).executeTakeFirst();
  let activity = linked && toActivity(linked);
  if (!activity) {
    const named = launch.claims[CLAIM.custom]?.[ACTIVITY_PARAM];
    if (typeof named !== 'string' || !named) return undefined;
    const placed = await db.selectFrom('activity').select(['id', 'context_id']).where('tenant_id', '=', launch.tenantId).where('resource_id', '=', named)
      .orderBy('id').execute();
    if (!placed.length) return undefined;
    const own = placed.find((p) => p.context_id === launch.contextId);
    const source = (await loadActivity(db, launch.tenantId, (own ?? placed[0]).id))!;
    activity = own ? source : await copyActivity(db, source, launch.contextId);
    await linkActivity(db, launch.tenantId, launch.contextId, launch.resourceLinkId, activity.id);
  }
  await rememberLineItem(db, activity, launch);
  return activity;
}

async function copyActivity(db: Db, source: Activity, contextId: string): Promise<Activity> {
  const id = await insertReturningId(db, 'activity', {
    tenant_id: source.tenantId, context_id: contextId, bank_id: source.bankId, title: source.title, settings: JSON.stringify(source.settings),
    resource_id: source.resourceId, line_item_url: null, created_by: null, created_at: Date.now(),
  });
  return { ...source, id, contextId, lineItemUrl: null };
}

/** The gradebook column the LMS made for the link (AGS `lineitem`), kept for grade passback. */
async function rememberLineItem(db: Db, activity: Activity, launch: LaunchContext): Promise<void> {
  const url = launch.claims[CLAIM.agsEndpoint]?.lineitem;
  if (typeof url !== 'string' || activity.contextId !== launch.contextId || activity.lineItemUrl === url) return;
  await db.updateTable('activity').set({ line_item_url: url }).where('id', '=', activity.id)
    .where((eb) => eb.or([eb('line_item_url', 'is', null), eb('line_item_url', '!=', url)])).execute();
  activity.lineItemUrl = url;
}
