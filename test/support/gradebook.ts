/** What reached the simulator's gradebook, checked against Jejak's grade outbox. */
import { expect } from 'chai';
import type { Db } from '../../src/db/schema';
import type { MoodleSim } from '../platform';

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
