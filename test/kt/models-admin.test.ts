import { expect } from 'chai';
import { insertReturningId } from '../../src/db/writes';
import { activeModel } from '../../src/kt/models';
import { testDialects, type TestDatabase } from '../support/db';
import { HttpBrowser } from '../support/http-browser';
import { Classroom } from '../teacher/classroom';

const ADMIN_PASSWORD = 'correct-horse-battery-staple';
const csrfOf = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)![1];

for (const dialect of testDialects()) {
  describe(`activating and rolling back a bank's model from the admin page on ${dialect.name}`, function () {
    this.timeout(60_000);
    let tdb: TestDatabase;
    let c: Classroom;
    let bankId: number;
    const ids: number[] = [];

    before(async () => {
      tdb = await dialect.create();
      c = await Classroom.open(tdb, { adminPassword: ADMIN_PASSWORD });
      bankId = (await c.db.selectFrom('activity').select('bank_id').where('id', '=', c.activityId).executeTakeFirstOrThrow()).bank_id;
      const now = Date.now();
      for (const [version, status] of [[1, 'active'], [2, 'candidate']] as const) {
        const metrics = {
          validAuc: 0.7, bestEpoch: 1, epochsRun: 1, secondsPerEpoch: 1, candidates: [],
          holdout: { from: { at: now, id: 1 }, attempts: 40, auc: 0.7 - version / 100, active: version === 2 ? { modelId: ids[0], version: 1, auc: 0.75 } : null },
        };
        ids.push(await insertReturningId(c.db, 'kt_model', {
          tenant_id: c.tenantId, bank_id: bankId, version, status, engine: 'jejak-js', variant: 'skill', weights: Buffer.from('not loaded'),
          meta: JSON.stringify({ skillIds: c.skillIds, itemIds: [], hyperParameters: {}, data: { trainStudents: 10, validStudents: 2, answers: 100 } }),
          metrics: JSON.stringify(metrics), data_size: 100, created_at: now, activated_at: status === 'active' ? now : null,
        }));
      }
    });
    after(async () => {
      await c?.close();
      await tdb?.drop();
    });

    const audits = (action: string) => c.db.selectFrom('audit_event').select(['actor', 'details']).where('action', '=', action).where('tenant_id', '=', c.tenantId).orderBy('id').execute();
    const activeVersion = async () => (await activeModel(c.db, c.tenantId, bankId))?.version ?? null;

    it('asks for confirmation, then activates or rolls back with an audit row; refuses what the state does not allow, in both languages', async () => {
      const b = new HttpBrowser();
      const origin = { headers: { origin: c.tool.url } };
      await b.post(`${c.tool.url}/admin/login`, { password: ADMIN_PASSWORD }, origin);
      const home = await b.get(`${c.tool.url}/admin?lang=en`);
      expect(home.body).to.contain('0.680 (v1: 0.750)');
      expect(home.body).to.contain('AUC on held-out attempts (then-active model)');
      expect(home.body).to.contain(`name="model" value="${ids[1]}"><button type="submit" name="action" value="activate">Activate…</button>`);
      expect(home.body).to.contain(`name="model" value="${ids[0]}"><button type="submit" name="action" value="rollback">Roll back…</button>`);
      const post = (form: Record<string, string>, lang = 'en') => b.post(`${c.tool.url}/admin/models?lang=${lang}`, { _csrf: csrfOf(home.body), ...form }, { ...origin, followRedirects: false });

      expect((await b.post(`${c.tool.url}/admin/models`, { model: String(ids[1]), action: 'activate', confirm: 'yes' }, origin)).status, 'no CSRF token').to.equal(403);
      const step1 = await post({ model: String(ids[1]), action: 'activate' });
      expect(step1.status).to.equal(200);
      expect(step1.body).to.contain(`Version 2 becomes the active model of bank ${bankId} (tenant ${c.tenantId}); v1 is retired.`);
      expect(await activeVersion(), 'nothing changes before the confirmation').to.equal(1);
      const step2 = await post({ _csrf: csrfOf(step1.body), model: String(ids[1]), action: 'activate', confirm: 'yes' });
      expect(step2.status).to.equal(303);
      expect(await activeVersion()).to.equal(2);
      expect((await audits('kt.model.activated')).map((a) => [a.actor, JSON.parse(a.details)])).to.deep.equal([['admin', { modelId: ids[1], version: 2, previousVersion: 1 }]]);

      const id1 = await post({ model: String(ids[1]), action: 'rollback' }, 'id');
      expect(id1.body).to.contain(`Versi 2 dari bank soal ${bankId} (tenant ${c.tenantId}) ditarik`);
      expect((await post({ model: String(ids[1]), action: 'rollback', confirm: 'yes' })).status).to.equal(303);
      expect(await activeVersion()).to.equal(1);
      expect((await audits('kt.model.rolled-back')).map((a) => [a.actor, JSON.parse(a.details)])).to.deep.equal([['admin', { fromVersion: 2, toVersion: 1 }]]);

      const refusals: [Record<string, string>, string, string][] = [
        [{ model: String(ids[0]), action: 'activate', confirm: 'yes' }, 'en', `model ${ids[0]} is already active`],
        [{ model: String(ids[1]), action: 'rollback', confirm: 'yes' }, 'en', `model ${ids[1]} is not active: only the active model can be rolled back`],
        [{ model: '999999', action: 'activate' }, 'id', 'tidak ada model bank soal 999999'],
        [{ model: 'x', action: 'activate' }, 'en', 'model id is not a number'],
      ];
      for (const [form, lang, message] of refusals) {
        const r = await post(form, lang);
        expect(r.status, message).to.equal(400);
        expect(r.body, message).to.contain(message);
      }
      expect(await activeVersion()).to.equal(1);
      expect(await audits('kt.model.activated')).to.have.length(1);
    });
  });
}
