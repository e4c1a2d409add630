import { expect } from 'chai';
import { spawnSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { testDialects, type TestDatabase } from '../support/db';
import { startTool, type RunningTool } from '../support/tool';
import { localhostCertificate } from '../support/tls';
import { skipForMissing } from '../support/pending';

const SAMPLE = path.resolve(__dirname, '../../config/nginx/jejak.conf');
const NGINX = '/usr/sbin/nginx';

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

function get(port: number, p: string): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    https.get({ host: '127.0.0.1', port, path: p, servername: 'jejak.example.sch.id', headers: { host: 'jejak.example.sch.id' }, rejectUnauthorized: false }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    }).on('error', reject);
  });
}

/**
 * The sample nginx configuration, as shipped, with only what a school changes replaced (certificate
 * paths, the upstream address, ports free on this machine): nginx accepts it and proxies to Jejak.
 */
describe('deployment: the sample nginx configuration', function () {
  this.timeout(60_000);
  let dir: string;
  let db: TestDatabase;
  let tool: RunningTool;
  let nginx: ChildProcess | undefined;
  let tlsPort: number;

  before(async () => {
    if (!fs.existsSync(NGINX)) skipForMissing({ what: 'nginx', why: `${NGINX} missing (apt-get install nginx-light)` });
    db = await testDialects()[0].create();
    tool = await startTool(db, { trustProxy: 'loopback' });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jejak-nginx-'));
    const { key, cert } = localhostCertificate();
    fs.writeFileSync(path.join(dir, 'cert.pem'), cert);
    fs.writeFileSync(path.join(dir, 'key.pem'), key);
    tlsPort = await freePort();
    const httpPort = await freePort();
    const site = fs.readFileSync(SAMPLE, 'utf8')
      .replace(/ssl_certificate\s+\S+;/, `ssl_certificate ${dir}/cert.pem;`)
      .replace(/ssl_certificate_key\s+\S+;/, `ssl_certificate_key ${dir}/key.pem;`)
      .replace(/server 127\.0\.0\.1:3000;/, `server 127.0.0.1:${new URL(tool.url).port};`)
      .replace('listen 443 ssl http2;', `listen 127.0.0.1:${tlsPort} ssl http2;`)
      .replace('listen 80;', `listen 127.0.0.1:${httpPort};`);
    fs.writeFileSync(path.join(dir, 'jejak.conf'), site);
    fs.writeFileSync(path.join(dir, 'nginx.conf'), [
      'daemon off;', 'worker_processes 1;', `pid ${dir}/nginx.pid;`, `error_log ${dir}/error.log;`,
      'events { worker_connections 64; }',
      `http { access_log off; client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; include ${dir}/jejak.conf; }`,
    ].join('\n'));
    const check = spawnSync(NGINX, ['-t', '-p', dir, '-c', path.join(dir, 'nginx.conf')], { encoding: 'utf8' });
    expect(check.status, check.stderr).to.equal(0);
    nginx = spawn(NGINX, ['-p', dir, '-c', path.join(dir, 'nginx.conf')], { stdio: 'ignore' });
    for (let i = 0; i < 50; i++) {
      if (await get(tlsPort, '/healthz').then(() => true, () => false)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  });
  after(async () => {
    nginx?.kill('SIGQUIT');
    await tool?.close();
    await db?.drop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('passes `nginx -t` and serves Jejak over TLS', async () => {
    const health = await get(tlsPort, '/healthz');
    expect(health.status).to.equal(200);
    const landing = await get(tlsPort, '/');
    expect(landing.status).to.equal(200);
    expect(landing.body).to.contain('Jejak');
  });

  it('passes requests through with the request id Jejak gave them', async () => {
    const r = await get(tlsPort, '/healthz');
    const line = tool.logs.filter((l) => l.msg === 'request' && l.path === '/healthz').pop();
    expect(line?.reqId).to.equal(r.headers['x-request-id']);
  });

  it('keeps /metrics off the internet (only the internal network may read it)', async () => {
    const r = await get(tlsPort, '/metrics');
    expect(r.status).to.equal(403);
  });
});
