import { expect } from 'chai';
import { MEDIA, MoodleSim, SCOPES } from '../platform';
import { expectGradebookShows } from '../support/gradebook';

/**
 * The simulator's gradebook as Moodle 5.1 keeps it (mod/lti/service/gradebookservices: scores.php,
 * results.php, and the grade_item updates behind them), which the grade tests rely on.
 */
describe('MoodleSim gradebook, as Moodle keeps scores', function () {
  this.timeout(10_000);
  let sim: MoodleSim;
  let clientId: string;
  let courseId: string;
  let sam: string;
  let token: string;

  before(async () => {
    sim = await MoodleSim.start();
    ({ clientId } = sim.addTool({ loginUrl: 'http://localhost:1/login', redirectUris: ['http://localhost:1/launch'], jwksUrl: 'http://localhost:1/jwks', targetLinkUri: 'http://localhost:1/launch' }));
    const seeded = sim.seedDefault();
    courseId = seeded.course.id;
    sam = seeded.students[0].id;
    token = sim.issueAccessToken(clientId, [SCOPES.score, SCOPES.resultReadOnly, SCOPES.lineItem]);
  });
  after(() => sim?.close());

  const post = (lineItemUrl: string, body: Record<string, unknown>) =>
    fetch(MoodleSim.scoresUrl(lineItemUrl), { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': MEDIA.score }, body: JSON.stringify({ userId: sam, scoreMaximum: 100, activityProgress: 'InProgress', ...body }) });
  const results = async (lineItemUrl: string) => {
    const u = new URL(lineItemUrl);
    u.pathname += '/results';
    return (await (await fetch(u, { headers: { authorization: `Bearer ${token}` } })).json()) as Array<Record<string, unknown>>;
  };

  it('the activity\'s own item: a score that is not FullyGraded is taken (200) but empties the cell, which results then leave out', async () => {
    const link = sim.addActivity({ courseId, clientId, title: 'A', lineItem: { scoreMaximum: 100 } });
    const li = sim.activityLineItem(link)!;
    expect((await post(li.url, { scoreGiven: 40, gradingProgress: 'FullyGraded', timestamp: '2026-05-01T10:00:00Z' })).status).to.equal(200);
    await expectGradebookShows(sim, li.id, sam, 40);
    expect((await post(li.url, { scoreGiven: 43.35, gradingProgress: 'Pending', timestamp: '2026-05-01T10:00:05Z' })).status).to.equal(200);
    expect(sim.grade(li.id, sam)).to.include({ scoreGiven: null, timemodified: null });
    expect(await results(li.url)).to.deep.equal([]);
    // No graded time is held now, so even an earlier timestamp is taken.
    expect((await post(li.url, { scoreGiven: 30, gradingProgress: 'FullyGraded', timestamp: '2026-05-01T09:00:00Z' })).status).to.equal(200);
    await expectGradebookShows(sim, li.id, sam, 30);
    const again = await post(li.url, { scoreGiven: 30, gradingProgress: 'FullyGraded', timestamp: '2026-05-01T09:00:00Z' });
    expect(again.status, 'the same score again').to.equal(409);
  });

  it('a line item the tool created: an emptied grade reads back with its id and user only', async () => {
    const created = await fetch(sim.lineItemsUrl(courseId, sim.tool(clientId).deploymentIds[0]!), {
      method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': MEDIA.lineItem }, body: JSON.stringify({ label: 'Extra', scoreMaximum: 100 }),
    });
    const url = ((await created.json()) as { id: string }).id;
    expect((await post(url, { scoreGiven: 70, gradingProgress: 'FullyGraded', timestamp: '2026-05-02T10:00:00Z' })).status).to.equal(200);
    const graded = await results(url);
    expect(graded).to.have.length(1);
    expect(graded[0]).to.include({ userId: sam, resultScore: 70, resultMaximum: 100, timestamp: '2026-05-02T10:00:00+00:00' });
    expect((await post(url, { scoreGiven: 75, gradingProgress: 'Pending', timestamp: '2026-05-02T10:00:05Z' })).status).to.equal(200);
    const emptied = await results(url);
    expect(emptied).to.have.length(1);
    expect(Object.keys(emptied[0]).sort()).to.deep.equal(['id', 'userId']);
  });
});
