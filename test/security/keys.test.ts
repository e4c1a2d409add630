import { expect } from 'chai';
import { testDialects, type TestDatabase } from '../support/db';
import { Classroom, eventually } from '../teacher/classroom';
import { runCli } from '../../src/cli';
import { AlreadyRotated, rotateKey } from '../../src/lti/commands/rotateKey';

for (const dialect of testDialects()) {
  describe(`signing key rotation (${dialect.name})`, function () {
    this.timeout(90_000);
    let tdb: TestDatabase;
    let c: Classroom;
    const jwksKids = async () => ((await (await fetch(`${c.tool.url}/lti/jwks`)).json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid);
    const currentKid = async () => (await c.tool.jejak.platforms.ltijsPlatform(c.sim.issuer, c.clientId))!.platformKid();

    before(async () => {
      tdb = await dialect.create();
      c = await Classroom.open(tdb, { keys: { rotationDays: 30, overlapHours: 1 } });
    });
    after(async () => {
      await c?.close();
      await tdb?.drop();
    });

    it('keeps launches and grade passback working across a rotation, then drops the old key after the overlap', async () => {
      const sam = c.studentIds[0]!;
      await c.launch(sam);
      await c.answer(sam, c.itemIds[0]![0]!, true, { score: 40 });
      await eventually(() => c.sim.scores.some((s) => s.userId === sam && s.body.scoreGiven === 40), 10_000, 'first score');
      const oldKid = await currentKid();
      const before = { jwks: c.sim.stats.jwksFetches, tokens: c.sim.stats.tokenRequests };

      const [rotated] = await c.tool.jejak.keys.rotate({ issuer: c.sim.issuer }, 'test');
      expect(rotated!.oldKid).to.equal(oldKid);
      const newKid = await currentKid();
      expect(newKid).to.equal(rotated!.newKid).and.not.equal(oldKid);
      expect(await jwksKids(), 'both keys published during the overlap').to.include.members([oldKid, newKid]);

      // The next score needs a fresh access token, asked for with a client assertion under the new kid:
      // the platform, holding only the old key set, must fetch our JWKS again to check it.
      await c.answer(sam, c.itemIds[0]![1]!, true, { score: 70 });
      await eventually(() => c.sim.scores.some((s) => s.userId === sam && s.body.scoreGiven === 70), 10_000, 'score after rotation');
      expect(c.sim.stats.tokenRequests).to.be.greaterThan(before.tokens);
      expect(c.sim.stats.jwksFetches, 'rotated kid fetched by the platform').to.be.greaterThan(before.jwks);
      expect((await c.launch(c.studentIds[1]!)).sid, 'a launch after the switch').to.be.a('string');

      const db = c.tool.jejak.conn.db;
      for (const row of await db.selectFrom('ltijs_privatekey').select('doc').execute()) expect(row.doc, 'sealed at rest').to.not.contain('PRIVATE KEY');
      const audit = await db.selectFrom('audit_event').select(['action', 'actor', 'details']).where('action', '=', 'keys.rotated').execute();
      expect(audit).to.have.length(1);
      expect(JSON.parse(audit[0]!.details)).to.include({ oldKid, newKid });

      await c.tool.jejak.keys.maintain(Date.now() + 30 * 60_000);
      expect(await jwksKids(), 'still inside the overlap').to.include(oldKid);
      await c.tool.jejak.keys.maintain(Date.now() + 61 * 60_000);
      const after = await jwksKids();
      expect(after).to.include(newKid).and.not.include(oldKid);
      expect(await db.selectFrom('ltijs_privatekey').select('id').where('k1', '=', oldKid).execute()).to.have.length(0);
    });

    it('refuses a second rotation of a key already rotated (two processes at once)', async () => {
      const kid = await currentKid();
      const props = { db: c.tool.jejak.conn.db, secret: c.tool.jejak.config.secret!, issuer: c.sim.issuer, clientId: c.clientId, fromKid: kid, overlapMs: 1000, actor: 'test', now: Date.now() };
      const results = await Promise.allSettled([rotateKey(props), rotateKey(props)]);
      expect(results.filter((r) => r.status === 'fulfilled')).to.have.length(1);
      const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      expect(failed.reason).to.be.instanceOf(AlreadyRotated);
      expect(await currentKid()).to.not.equal(kid);
    });

    it('rotates on schedule once the key is older than the rotation period', async () => {
      const kid = await currentKid();
      await c.tool.jejak.keys.maintain(Date.now() + 29 * 86_400_000);
      expect(await currentKid(), 'not due yet').to.equal(kid);
      await c.tool.jejak.keys.maintain(Date.now() + 31 * 86_400_000);
      expect(await currentKid(), 'due').to.not.equal(kid);
    });

    it('rotates by command: npm run jejak -- keys rotate --issuer …', async () => {
      const kid = await currentKid();
      const saved = { ...process.env };
      Object.assign(process.env, { DATABASE_URL: tdb.url, JEJAK_SECRET: c.tool.jejak.config.secret, PUBLIC_URL: c.tool.url });
      const lines: string[] = [];
      try {
        expect(await runCli(['keys', 'rotate', '--issuer', c.sim.issuer, '--client-id', c.clientId], (s) => lines.push(s))).to.equal(0);
      } finally {
        process.env = saved;
      }
      expect(lines.join('\n')).to.match(new RegExp(`Rotated .*new key \\w+; old key ${kid} published until`));
      expect(await currentKid()).to.not.equal(kid);
    });
  });
}
