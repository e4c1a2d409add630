import { expect } from 'chai';
import http from 'node:http';
import zlib from 'node:zlib';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { sqliteDatabase, type TestDatabase } from '../support/db';
import { startTool, type RunningTool } from '../support/tool';
import { compressText } from '../../src/web/compression';

/** A GET whose body is returned as the bytes sent (no decompression), with the headers. */
function raw(url: string, headers: Record<string, string> = {}, o: { firstBytesOnly?: boolean } = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => {
        chunks.push(c);
        // A stream that never ends: what arrived first is enough.
        if (o.firstBytesOnly) {
          resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) });
          req.destroy();
        }
      });
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', (e) => (o.firstBytesOnly ? undefined : reject(e)));
  });
}

// Issue 15.16: compressed responses, a favicon that is not a 404, the landing page's language link.
describe('first loads: compression, favicon, landing page', function () {
  this.timeout(30_000);
  let tdb: TestDatabase;
  let tool: RunningTool;

  before(async () => {
    tdb = await sqliteDatabase();
    tool = await startTool(tdb);
  });
  after(async () => {
    await tool?.close();
    await tdb?.drop();
  });

  it('KaTeX\'s and Jejak\'s stylesheets are sent gzipped to a client that accepts gzip, and unchanged to one that does not', async () => {
    for (const path of ['/static/katex/katex.min.css', '/static/jejak.css']) {
      const plain = await raw(`${tool.url}${path}`);
      expect(plain.status, path).to.equal(200);
      expect(plain.headers['content-encoding'], path).to.equal(undefined);
      const gz = await raw(`${tool.url}${path}`, { 'accept-encoding': 'gzip, deflate, br' });
      expect(gz.headers['content-encoding'], path).to.equal('gzip');
      expect(gz.headers.vary, path).to.match(/accept-encoding/i);
      expect(Number(gz.headers['content-length']), path).to.equal(gz.body.length);
      expect(zlib.gunzipSync(gz.body).equals(plain.body), path).to.equal(true);
      expect(gz.body.length, path).to.be.below(plain.body.length / 2);
    }
  });

  it('/favicon.ico answers without a 404 page', async () => {
    const r = await raw(`${tool.url}/favicon.ico`);
    expect(r.status).to.equal(204);
    expect(r.body.length).to.equal(0);
    expect(r.headers['cache-control']).to.match(/max-age=\d+/);
  });

  it('the landing page links to the other language', async () => {
    const id = (await raw(`${tool.url}/?lang=id`)).body.toString();
    expect(id).to.contain('href="?lang=en" lang="en"').and.not.contain('href="?lang="');
    const en = (await raw(`${tool.url}/?lang=en`)).body.toString();
    expect(en).to.contain('href="?lang=id" lang="id"');
  });

  it('a server-sent event stream is never held back for compression', async () => {
    const app = express();
    app.use(compressText());
    app.get('/events', (_req, res) => {
      res.set({ 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
      res.flushHeaders();
      res.write(`event: answer\ndata: ${'x'.repeat(2000)}\n\n`);
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    try {
      const r = await raw(`http://127.0.0.1:${(server.address() as AddressInfo).port}/events`, { 'accept-encoding': 'gzip' }, { firstBytesOnly: true });
      expect(r.headers['content-encoding']).to.equal(undefined);
      expect(r.body.toString()).to.match(/^event: answer\n/);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});
