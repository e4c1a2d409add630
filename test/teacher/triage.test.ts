import { expect } from 'chai';
import { testDialects, type TestDatabase } from '../support/db';
import { Classroom } from './classroom';
import { ConfigError, loadConfig } from '../../src/config';
import { schoolDateTime, zoneLabel } from '../../src/teacher/school-time';

/** What a clock in UTC+8 (WITA, no daylight saving) reads at `at`: "YYYY-MM-DD HH:MM". */
const wita = (at: number) => new Date(at + 8 * 3_600_000).toISOString().replace('T', ' ').slice(0, 16);

describe('school time zone', () => {
  it('defaults to Asia/Jakarta and refuses an unknown zone at start, naming the setting', () => {
    expect(loadConfig({}).schoolTimeZone).to.equal('Asia/Jakarta');
    expect(loadConfig({ SCHOOL_TIME_ZONE: 'Asia/Jayapura' }).schoolTimeZone).to.equal('Asia/Jayapura');
    expect(() => loadConfig({ SCHOOL_TIME_ZONE: 'Asia/Jakrta' })).to.throw(ConfigError, /^Configuration error: schoolTimeZone \(SCHOOL_TIME_ZONE\) is "Asia\/Jakrta": must be an IANA time zone/);
  });

  it('names Indonesia’s zones as schools do, and shows the school’s clock', () => {
    expect(['Asia/Jakarta', 'Asia/Makassar', 'Asia/Jayapura', 'Etc/UTC', 'Europe/Amsterdam'].map(zoneLabel)).to.deep.equal(['WIB', 'WITA', 'WIT', 'UTC', 'Europe/Amsterdam']);
    // 23:26 UTC is 06:26 the next day in WIB, 08:26 in WIT.
    const at = Date.UTC(2025, 2, 13, 23, 26);
    expect(schoolDateTime(at, 'Asia/Jakarta')).to.equal('2025-03-14 06:26 WIB');
    expect(schoolDateTime(at, 'Asia/Jayapura')).to.equal('2025-03-14 08:26 WIT');
  });
});

for (const dialect of testDialects()) {
  describe(`class view triage on ${dialect.name}`, function () {
    this.timeout(90_000);
    let tdb: TestDatabase;
    let c: Classroom;
    let classUrl: string;
    let teacher: Awaited<ReturnType<Classroom['launch']>>;
    const who: Record<string, string> = {};
    const t0 = Date.now() - 20 * 60_000;

    before(async () => {
      tdb = await dialect.create();
      c = await Classroom.open(tdb, { schoolTimeZone: 'Asia/Makassar' });
      [who.sam, who.sasha, who.sandi] = c.studentIds;
      for (const [key, given] of [['ani', 'Ani'], ['budi', 'Budi'], ['citra', 'Citra'], ['dedi', 'Dedi'], ['eka', 'Eka']]) {
        const u = c.sim.addUser({ given, family: 'Siswa', email: `${key}@example.com`, username: key });
        c.sim.enrol(c.courseId, u.id, 'Learner');
        who[key] = u.id;
      }
      const launched: Record<string, string> = {};
      for (const key of ['sam', 'ani', 'budi', 'sasha', 'citra', 'dedi', 'eka']) launched[key] = (await c.launch(who[key])).sid;
      // Sam, Ani and Budi: twelve wrong answers each on the first skill (practice pauses it: stuck).
      for (const key of ['sam', 'ani', 'budi']) {
        for (let i = 0; i < 12; i++) await c.practise(who[key], c.itemIds[0][i % 2], false, { at: t0 + i * 1000 });
      }
      // Eka: two wrong answers on each skill, nothing paused: at risk.
      for (let i = 0; i < 6; i++) await c.practise(who.eka, c.itemIds[i % 3][0], false, { at: t0 + i * 1000 });
      // Citra: nine answers, seven right, and the activity's length done twenty minutes ago; her session is still open.
      for (let i = 0; i < 9; i++) await c.practise(who.citra, c.itemIds[i % 3][Math.floor(i / 3) % 2], i % 4 !== 3, { at: t0 + i * 1000 });
      await c.db.insertInto('practice_progress').values({
        tenant_id: c.tenantId, context_id: c.courseId, activity_id: c.activityId, user_sub: who.citra, preview: 0,
        answered: 9, correct: 7, started_at: t0, completed_at: t0 + 9000, updated_at: t0 + 9000,
      }).execute();
      // Sasha answers now; Dedi and Citra opened the activity eleven minutes ago.
      for (let i = 0; i < 2; i++) await c.practise(who.sasha, c.itemIds[0][0], true);
      for (const key of ['dedi', 'citra']) await c.db.updateTable('launch_session').set({ created_at: Date.now() - 11 * 60_000 }).where('id', '=', launched[key]).execute();
      // The item to reteach with carries its question (escaped on the page).
      await c.db.updateTable('item').set({ body: JSON.stringify({ v: 1, kind: 'truefalse', languages: ['id'], stem: { id: '<p>Apakah <b>2/4</b> &amp; 1/2 &lt;sama&gt;?</p>' }, answer: true }) })
        .where('id', '=', c.itemIds[0][1]).execute();
      teacher = await c.launch(c.teacherId);
      classUrl = `${teacher.base}/teacher/activities/${c.activityId}`;
    });
    after(async () => {
      await c?.close();
      await tdb?.drop();
    });

    it('lists the class by what needs the teacher now, each row with its state and reason; only stuck and at-risk rows stand out', async () => {
      const page = await teacher.browser.get(classUrl);
      expect(page.status, page.body).to.equal(200);
      const tbody = /<table class="heatmap">[\s\S]*?<tbody>([\s\S]*?)<\/tbody>/.exec(page.body)![1];
      const rows = [...tbody.matchAll(/<tr( class="act")?><th scope="row"><a href="[^"]*\/students\/([^"]+)">[^<]*<\/a><\/th>.*?<td class="reason"><span class="flag flag-(\w+)">/g)]
        .map((m) => ({ sub: m[2], act: m[1] !== undefined, state: m[3] }));
      const key = (sub: string) => Object.keys(who).find((k) => who[k] === sub);
      expect(rows.map((r) => `${key(r.sub)}:${r.state}`)).to.deep.equal([
        'ani:struggling', 'budi:struggling', 'sam:struggling', 'eka:at_risk', 'dedi:idle', 'sandi:not_started', 'sasha:working', 'citra:finished',
      ]);
      expect(rows.filter((r) => r.act).map((r) => key(r.sub))).to.deep.equal(['ani', 'budi', 'sam', 'eka']);
      expect(tbody).to.match(/flag-working">Practising<\/span> 2 answers, 100% right\.<\/td>/);
      expect(tbody).to.match(/flag-finished">Finished<\/span> Finished the activity: 0 of 3 skills mastered\.<\/td>/);
    });

    it('never calls a student who finished the activity idle', async () => {
      const page = await teacher.browser.get(classUrl);
      const citra = new RegExp(`<li><a href="[^"]*/students/${who.citra}">`);
      expect(page.body, 'Citra is not in the attention list').not.to.match(citra);
      const dedi = new RegExp(`<li><a href="[^"]*/students/${who.dedi}">Dedi Siswa</a>\\s*<ul><li><span class="flag flag-idle">Idle</span>`);
      expect(page.body, 'who opened and left is still idle').to.match(dedi);
    });

    it('groups the students stuck on one skill, with the skill’s hardest item for the class to reteach with', async () => {
      const page = await teacher.browser.get(classUrl);
      const now = /<section class="now">([\s\S]*?)<\/section>/.exec(page.body);
      expect(now, 'the “needs you now” block').to.not.equal(null);
      const bankId = (await c.db.selectFrom('activity').select('bank_id').where('id', '=', c.activityId).executeTakeFirstOrThrow()).bank_id;
      expect(now![1]).to.contain(`<strong>3 students stuck on Menjumlah pecahan</strong> — reteach with <a href="/s/${teacher.sid}/content/banks/${bankId}/items/${c.itemIds[0][1]}">q0-1</a> “Apakah 2/4 &amp; 1/2 &lt;sama&gt;?” (0% right in this class)`);
      expect(now![1].match(/\/students\//g)).to.have.length(3);
      // The link opens the item's preview for the teacher.
      const preview = await teacher.browser.get(`${c.tool.url}/s/${teacher.sid}/content/banks/${bankId}/items/${c.itemIds[0][1]}`);
      expect(preview.status).to.equal(200);
      expect(preview.body).to.contain('q0-1');
      // Item analysis names the item by its question too, and links it.
      expect(page.body).to.match(new RegExp(`<th scope="row"><a href="/s/${teacher.sid}/content/banks/${bankId}/items/${c.itemIds[0][1]}">q0-1</a> <span class="stem">Apakah 2/4 &amp; 1/2 &lt;sama&gt;\\?</span></th>`));
    });

    it('shows times in the school’s zone (WITA here), on the class page and the student page, in both languages', async () => {
      const before = Date.now();
      const page = await teacher.browser.get(classUrl);
      const shown = /Updated at (\d\d:\d\d) \(WITA\)\./.exec(page.body);
      expect(shown, 'updated at, in WITA').to.not.equal(null);
      expect([wita(before).slice(11), wita(Date.now()).slice(11)]).to.include(shown![1]);
      const id = await teacher.browser.get(`${classUrl}?lang=id`);
      expect(id.body).to.match(/Diperbarui pukul \d\d:\d\d \(WITA\)\./);
      const student = await teacher.browser.get(`${classUrl}/students/${who.citra}`);
      expect(student.body).to.contain(`<td>${wita(t0)} WITA</td>`);
    });
  });
}
