import { expect } from 'chai';
import { MoodleSim } from '../platform';
import { launch, type LaunchResult } from '../support/http-browser';
import { testDialects } from '../support/db';
import { registerTool, startTool } from '../support/tool';
import { csrfField } from '../support/csrf';
import { readBankFile } from '../../src/content/import';
import { IMPORT_STEP } from '../../src/content/import/model';
import { importBank } from '../../src/content/commands/importBank';
import { ITEMS_PER_PAGE } from '../../src/content/routes';

const ITEMS = 3000;
const SKILLS = 600;

/**
 * A CSV bank of 3,000 items in 600 skills, each skill needing the one before: 1,200 values for the
 * prerequisites alone, 6,000 for the item links, past SQLite's historical 999 per statement.
 */
function largeCsv(): string {
  const rows = ['code,skill,prerequisites,kind,stem,answer'];
  for (let i = 0; i < ITEMS; i++) {
    const s = i % SKILLS;
    rows.push(`q${i},Skill ${s}|Extra ${i % 7},${s ? `Skill ${s - 1}` : ''},numeric,Berapa ${i} + 1? \\(\\frac{${i}}{2}\\),${i + 1}`);
  }
  return `${rows.join('\n')}\n`;
}

/** Counts turns the event loop takes while `work` runs: each turn is a chance for another request. */
async function turnsDuring<T>(work: () => Promise<T>): Promise<{ result: T; turns: number }> {
  let turns = 0;
  let running = true;
  const tick = () => {
    if (!running) return;
    turns++;
    setImmediate(tick);
  };
  setImmediate(tick);
  try {
    return { result: await work(), turns };
  } finally {
    running = false;
  }
}

function multipart(fields: Record<string, string>, file: { name: string; content: string }): { body: string; type: string } {
  const boundary = '----jejakLargeImportBoundary';
  const parts = Object.entries(fields).map(([k, v]) => `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`);
  parts.push(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${file.name}"\r\nContent-Type: text/csv\r\n\r\n${file.content}\r\n`);
  return { body: `${parts.join('')}--${boundary}--\r\n`, type: `multipart/form-data; boundary=${boundary}` };
}

const csv = largeCsv();

describe('a large bank: read in steps, written in bounded statements', function () {
  this.timeout(300_000);

  it(`reads ${ITEMS.toLocaleString('en')} CSV rows giving the event loop a turn at least every ${IMPORT_STEP} questions`, async () => {
    const { result, turns } = await turnsDuring(() => readBankFile('csv', csv, 'id'));
    expect(result.report.filter((l) => l.outcome === 'refused')).to.deep.equal([]);
    expect(result.items).to.have.length(ITEMS);
    expect(result.skills.filter((s) => s.prerequisites.length)).to.have.length(SKILLS - 1);
    expect(turns).to.be.at.least(ITEMS / IMPORT_STEP - 1);
  });

  for (const dialect of testDialects()) {
    it(`${dialect.name}: imports it through the upload form, yielding between statements, and every page of the bank renders`, async () => {
      const tdb = await dialect.create();
      const tool = await startTool(tdb);
      const sim = await MoodleSim.start();
      try {
        const db = tool.jejak.conn.db;
        // Written directly: the event loop turns between the statements of the one transaction.
        const parsed = await readBankFile('csv', csv, 'id');
        const direct = await turnsDuring(() => importBank({ db, tenantId: null, contextId: null, actor: 'system', title: 'Direct', source: 'csv', parsed }));
        expect(direct.result.ok).to.equal(true);
        expect(direct.turns).to.be.at.least(ITEMS / 100);

        // And as a teacher does it.
        const clientId = await registerTool(sim, tool);
        const seeded = sim.seedDefault();
        const activityId = sim.addActivity({ courseId: seeded.course.id, clientId, title: 'Bank' });
        const teacher: LaunchResult = await launch(sim, { clientId, userId: seeded.teacher.id, courseId: seeded.course.id, activityId, locale: 'en' });
        const home = teacher.final.url.replace(/\/s\/([^/?]+).*$/, '/s/$1/');
        const { body, type } = multipart({ language: 'id', title: 'Besar' }, { name: 'besar.csv', content: csv });
        const action = new URL(`content/banks/import?_csrf=${csrfField(tool, home)._csrf}`, home).toString();
        const done = await teacher.browser.request('POST', action, { body, headers: { 'content-type': type }, context: { ...teacher.context, initiator: action } });
        expect(done.status, done.body.slice(0, 1000)).to.equal(200);
        const bankId = Number(/\/content\/banks\/(\d+)\?imported=1$/.exec(done.url)![1]);
        expect(done.body).to.contain(`Items 1–${ITEMS_PER_PAGE} of ${ITEMS}`).and.contain('Needs first: Skill 598');
        expect(done.body.match(/<tr><td><a href="\d+\/items\/\d+">/g)).to.have.length(ITEMS_PER_PAGE);
        // The report after the import: every refusal and note, the first taken items, and how many more.
        expect(done.body).to.contain(`${ITEMS - 100} more lines of imported items not shown.`);
        // The bank row, read on every view of its page, keeps the report as shown, not its 3,000 lines.
        const stored = await db.selectFrom('bank').select('details').where('id', '=', bankId).executeTakeFirstOrThrow();
        expect(JSON.parse(stored.details).import.report).to.have.length(100);
        const pages = Math.ceil(ITEMS / ITEMS_PER_PAGE);
        const last = await teacher.browser.get(new URL(`content/banks/${bankId}?page=${pages}`, home).toString(), { context: teacher.context });
        expect(last.status).to.equal(200);
        expect(last.body).to.contain(`Items ${ITEMS - ITEMS_PER_PAGE + 1}–${ITEMS} of ${ITEMS}`).and.contain('>q2999<');
        const counts = await db.selectFrom('item_skill').innerJoin('item', 'item.id', 'item_skill.item_id')
          .select((e) => e.fn.countAll<number>().as('n')).where('item.bank_id', '=', bankId).executeTakeFirstOrThrow();
        expect(Number(counts.n)).to.equal(2 * ITEMS);
        const prereqs = await db.selectFrom('skill_prerequisite').innerJoin('skill', 'skill.id', 'skill_prerequisite.skill_id')
          .select((e) => e.fn.countAll<number>().as('n')).where('skill.bank_id', '=', bankId).executeTakeFirstOrThrow();
        expect(Number(prereqs.n)).to.equal(SKILLS - 1);
      } finally {
        await sim.close();
        await tool.close();
        await tdb.drop();
      }
    });
  }
});
