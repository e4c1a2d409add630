import { expect } from 'chai';
import jwt from 'jsonwebtoken';
import crypto from 'node:crypto';
import { connect, type Connection } from '../../src/db/connect';
import { migrateToLatest } from '../../src/db/migrate';
import { LtijsStore } from '../../src/lti/ltijs-store';
import { Platforms } from '../../src/lti/platforms';
import { testDialects, type TestDatabase } from '../support/db';

const SECRET = 'store-test-secret-0123456789abcdefghij';

for (const dialect of testDialects()) {
  describe(`ltijs database plugin on ${dialect.name}`, () => {
    let tdb: TestDatabase;
    let conn: Connection;
    let now = 1_800_000_000_000;
    let store: LtijsStore;

    before(async () => {
      tdb = await dialect.create();
      conn = await connect(tdb.url, process.cwd());
      await migrateToLatest(conn);
      store = new LtijsStore(conn.db, SECRET, () => now);
    });
    after(async () => {
      await conn.close();
      await tdb.drop();
    });

    it('migrations are idempotent', async () => {
      expect(await migrateToLatest(conn)).to.deep.equal([]);
    });

    it('Get returns false when nothing matches, and every match as an array', async () => {
      expect(await store.Get(false, 'platformStatus', { id: 'none' })).to.equal(false);
      await store.Insert(false, 'platformStatus', { id: 'k1', active: false });
      await store.Insert(false, 'platformStatus', { id: 'k2', active: true });
      const one = await store.Get(false, 'platformStatus', { id: 'k1' });
      expect(one).to.be.an('array').with.length(1);
      expect((one as any[])[0]).to.include({ id: 'k1', active: false });
      expect(await store.Get(false, 'platformStatus')).to.have.length(2);
    });

    it('Replace upserts, Modify merges, Delete removes', async () => {
      await store.Replace(false, 'platformStatus', { id: 'k1' }, { id: 'k1', active: true });
      expect((await store.Get(false, 'platformStatus', { id: 'k1' }) as any[])[0].active).to.equal(true);
      await store.Replace(false, 'platformStatus', { id: 'k3' }, { id: 'k3', active: true });
      expect(await store.Get(false, 'platformStatus', { id: 'k3' })).to.have.length(1);
      await store.Modify(false, 'platformStatus', { id: 'k3' }, { active: false });
      expect((await store.Get(false, 'platformStatus', { id: 'k3' }) as any[])[0].active).to.equal(false);
      await store.Delete('platformStatus', { id: 'k3' });
      expect(await store.Get(false, 'platformStatus', { id: 'k3' })).to.equal(false);
    });

    it('seals encrypted records, keeping only the index fields in clear', async () => {
      await store.Insert('x', 'accesstoken', { token: { access_token: 'very-secret-token', expires_in: 3600 } }, { platformUrl: 'https://lms', clientId: 'c1', scopes: 's' });
      const raw = await conn.db.selectFrom('ltijs_accesstoken').selectAll().execute();
      expect(raw).to.have.length(1);
      expect(raw[0].doc).not.to.contain('very-secret-token');
      expect(raw[0].k1).to.equal('https://lms');
      const got = (await store.Get('x', 'accesstoken', { platformUrl: 'https://lms', clientId: 'c1', scopes: 's' })) as any[];
      expect(got[0].token.access_token).to.equal('very-secret-token');
      expect(got[0].createdAt).to.equal(now);
      // Another install secret cannot read it.
      const other = new LtijsStore(conn.db, 'another-secret-0123456789abcdefghijkl', () => now);
      let failed = false;
      try {
        await other.Get('x', 'accesstoken', { platformUrl: 'https://lms' });
      } catch {
        failed = true;
      }
      expect(failed).to.equal(true);
    });

    it('expires what ltijs expires (nonce 10 s, state 10 min, access token 1 h) and purges it', async () => {
      await store.Insert(false, 'nonce', { nonce: 'n1' });
      await store.Insert(false, 'state', { state: 's1', query: {} });
      now += 11_000;
      expect(await store.Get(false, 'nonce', { nonce: 'n1' })).to.equal(false);
      expect(await store.Get(false, 'state', { state: 's1' })).to.have.length(1);
      now += 600_000;
      expect(await store.Get(false, 'state', { state: 's1' })).to.equal(false);
      expect(await store.Get('x', 'accesstoken', { platformUrl: 'https://lms' })).to.have.length(1);
      now += 3_000_000;
      expect(await store.Get('x', 'accesstoken', { platformUrl: 'https://lms' })).to.equal(false);
      expect(await store.purgeExpired()).to.equal(3);
      expect(await conn.db.selectFrom('ltijs_nonce').selectAll().execute()).to.have.length(0);
    });

    it('refuses a query by a field ltijs never indexes', async () => {
      let err: Error | undefined;
      try {
        await store.Get(false, 'platform', { platformName: 'x' });
      } catch (e) {
        err = e as Error;
      }
      expect(err?.message).to.match(/cannot be queried by platformName/);
    });

    it('serves ltijs: a registered platform signs with its private key, verifiable with our JWKS', async () => {
      const platforms = new Platforms(conn.db, new LtijsStore(conn.db, SECRET), SECRET);
      const reg = await platforms.register({
        issuer: 'https://moodle.example', clientId: 'abc', name: 'Moodle', authLoginUrl: 'https://moodle.example/mod/lti/auth.php',
        tokenUrl: 'https://moodle.example/mod/lti/token.php', jwksUrl: 'https://moodle.example/mod/lti/certs.php', source: 'manual', deploymentIds: ['1', '2'],
      });
      expect(reg.deploymentIds).to.deep.equal(['1', '2']);
      const p = await platforms.ltijs.getPlatform('https://moodle.example', 'abc');
      expect(p).not.to.equal(false);
      const platform = p as Exclude<typeof p, false>;
      expect(await platform.platformActive()).to.equal(true);
      const kid = await platform.platformKid();
      const token = jwt.sign({ hello: 'world' }, await platform.platformPrivateKey(), { algorithm: 'RS256', keyid: kid });
      const jwks = await platforms.jwks();
      const jwk = jwks.keys.find((k) => k.kid === kid);
      expect(jwk).to.include({ alg: 'RS256', use: 'sig', kty: 'RSA' });
      const pub = crypto.createPublicKey({ key: jwk as crypto.JsonWebKey, format: 'jwk' });
      expect((jwt.verify(token, pub) as any).hello).to.equal('world');
      const rawKeys = await conn.db.selectFrom('ltijs_privatekey').select('doc').execute();
      expect(rawKeys.map((r) => r.doc).join('')).not.to.contain('PRIVATE KEY');
      // Deployments are the tenants; an unknown one has none.
      expect(await platforms.tenantId('https://moodle.example', 'abc', '2')).to.be.a('number');
      expect(await platforms.tenantId('https://moodle.example', 'abc', '3')).to.equal(undefined);
      expect(await platforms.remove('https://moodle.example', 'abc')).to.equal(true);
      expect(await platforms.ltijs.getPlatform('https://moodle.example', 'abc')).to.equal(false);
      expect((await platforms.jwks()).keys.find((k) => k.kid === kid)).to.equal(undefined);
    });
  });
}
