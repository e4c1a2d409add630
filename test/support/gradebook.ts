/** What reached the simulator's gradebook, checked against Jejak's grade outbox. */
import { expect } from 'chai';
import type { Db } from '../../src/db/schema';
import { MEDIA, SCOPES, type MoodleSim } from '../platform';
import { launch } from './http-browser';
import type { RunningTool } from './tool';

export interface ScoresCheck {
  timeoutMs?: number;
  /**
   * Also: no score was posted twice. Every score posted (accepted or refused) is a distinct
   * (user, line item, timestamp), and the gradebook refused none. Not for runs where a process is
   * killed between its post and its record of it: resending that score is right there.
   */
  sentOnce?: boolean;
}

/**
 * Waits until the outbox has delivered its latest version of every score, then checks the gradebook
 * against it: each student's grade is the latest score, and the platform accepted each score once
 * (strictly later timestamps; a repeat would have been refused with 409 and not stored). Returns the
 * number of students' scores.
 */
export async function expectScoresDelivered(db: Db, sim: MoodleSim, o: ScoresCheck = {}): Promise<number> {
  const outbox = () => db.selectFrom('score_outbox').selectAll().execute();
  const until = Date.now() + (o.timeoutMs ?? 20_000);
  while (!(await outbox()).every((r) => r.status === 'delivered' && r.delivered_version === r.version)) {
    if (Date.now() > until) throw new Error(`timed out waiting for every score delivered: ${JSON.stringify((await outbox()).filter((r) => r.status !== 'delivered').map((r) => [r.user_sub, r.status, r.problem_detail]))}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const rows = await outbox();
  for (const row of rows) {
    const accepted = sim.scores.filter((s) => s.userId === row.user_sub);
    const stamps = accepted.map((s) => Date.parse(String(s.body.timestamp)));
    expect(stamps, `scores of ${row.user_sub}`).to.deep.equal([...stamps].sort((a, b) => a - b));
    expect(new Set(stamps).size).to.equal(stamps.length);
    const last = accepted.at(-1)!;
    expect(last.body.scoreGiven).to.equal(row.score_given);
    expect(Date.parse(String(last.body.timestamp))).to.equal(row.score_timestamp);
  }
  if (o.sentOnce) {
    const posted = [...sim.scores, ...sim.refusedScores].map((s) => `${s.userId} ${s.lineItemId} ${String(s.body.timestamp)}`);
    expect(posted.filter((p, i) => posted.indexOf(p) !== i), 'scores posted twice').to.deep.equal([]);
    expect(sim.refusedScores.map((s) => `${s.status} ${s.reason}`), 'scores the gradebook refused').to.deep.equal([]);
  }
  return rows.length;
}

/**
 * What the simulator's gradebook shows for `userId`, read back as a tool reads it (the AGS results
 * service): `score` on the line item's scale, or null for an empty cell.
 */
export async function expectGradebookShows(sim: MoodleSim, lineItemId: number, userId: string, score: number | null): Promise<void> {
  const li = sim.lineItems.get(lineItemId)!;
  const token = sim.issueAccessToken(li.clientId, [SCOPES.resultReadOnly]);
  const url = new URL(li.url);
  url.pathname += '/results';
  url.searchParams.set('user_id', userId);
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}`, accept: MEDIA.resultContainer } });
  expect(res.status).to.equal(200);
  const results = (await res.json()) as Array<{ userId: string; resultScore?: number }>;
  expect(results.find((r) => r.userId === userId)?.resultScore ?? null, `the gradebook's grade of ${userId}`).to.equal(score);
}

/** The teacher's grades page of the activity on `linkId`, opened through a teacher's launch; `row(sub)` is that student's table row. */
export async function gradesPage(sim: MoodleSim, tool: RunningTool, o: { clientId: string; courseId: string; linkId: string; teacherId: string }, locale: 'id' | 'en', q: { fresh?: boolean } = {}) {
  const t = await launch(sim, { clientId: o.clientId, userId: o.teacherId, courseId: o.courseId, activityId: o.linkId, locale });
  expect(t.final.status, t.final.body).to.equal(200);
  const base = /^(.*\/s\/[\w-]+)\//.exec(t.final.url)![1];
  const link = await tool.jejak.conn.db.selectFrom('activity_link').select('activity_id').where('resource_link_id', '=', o.linkId).executeTakeFirstOrThrow();
  const page = await t.browser.get(`${base}/teacher/activities/${link.activity_id}/grades${q.fresh ? '?fresh=1' : ''}`, { context: { ...t.context, initiator: t.final.url } });
  const rows = page.body.match(/<tr[ >][\s\S]*?<\/tr>/g) ?? [];
  return {
    ...page,
    row(sub: string): string {
      const row = rows.find((r) => r.includes(`/students/${encodeURIComponent(sub)}"`));
      expect(row, `a row for ${sub} on the grades page`).to.not.equal(undefined);
      return row!.replace(/<[^>]+>/g, ' ').replace(/&#x27;|&#39;/g, "'").replace(/\s+/g, ' ');
    },
  };
}
