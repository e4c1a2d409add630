import { expect } from 'chai';
import type { Config } from '../../src/config';
import { ensureSampleBank } from '../../src/content/sample';
import { createActivity, linkActivity } from '../../src/practice/activities';
import type { TestDatabase } from '../support/db';
import { Classroom } from '../teacher/classroom';

/** A classroom (tests/teacher/classroom.ts) plus a link practising the shipped sample bank, whose items render for real. */
export async function openSite(tdb: TestDatabase, overrides: Partial<Config> = {}): Promise<{ c: Classroom; practiceLink: string; practiceActivityId: number; sampleBankId: number }> {
  const c = await Classroom.open(tdb, overrides);
  const { bankId } = await ensureSampleBank(c.db);
  const skillIds = (await c.db.selectFrom('skill').select('id').where('bank_id', '=', bankId).orderBy('position').execute()).map((s) => s.id);
  const practiceLink = c.sim.addActivity({ courseId: c.courseId, clientId: c.clientId, title: 'Sample', lineItem: { scoreMaximum: 100, label: 'Sample' } });
  const activity = await createActivity(c.db, {
    tenantId: c.tenantId, contextId: c.courseId, bankId, title: 'Sample practice', createdBy: 'test',
    settings: { skillIds, masteryThreshold: 0.8, gradeMode: 'mastery', length: { kind: 'until_mastered' } },
  });
  await linkActivity(c.db, c.tenantId, c.courseId, practiceLink, activity.id);
  return { c, practiceLink, practiceActivityId: activity.id, sampleBankId: bankId };
}

export interface PostForm {
  action: string;
  /** The CSRF token the form sends: its hidden `_csrf` field, or `_csrf` in its action (multipart uploads). */
  token: string | undefined;
}

/** Every form of a page that posts. */
export function postForms(html: string): PostForm[] {
  return [...html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)]
    .filter((m) => /method="post"/i.test(m[1]!))
    .map((m) => {
      const action = (/action="([^"]*)"/.exec(m[1]!)?.[1] ?? '').replace(/&amp;/g, '&');
      const field = /<input type="hidden" name="_csrf" value="([^"]*)">/.exec(m[2]!)?.[1];
      return { action, token: field ?? new URL(action, 'http://x/').searchParams.get('_csrf') ?? undefined };
    });
}

export function expectStatus(actual: number, allowed: number[], what: string): void {
  expect(allowed, `${what}: got ${actual}`).to.include(actual);
}
