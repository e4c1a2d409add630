import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { loadConfig, type Config } from '../../src/config';
import { createJejak, type Jejak } from '../../src/app';
import { createLogger } from '../../src/log';
import type { TestDatabase } from './db';
import { expect } from 'chai';
import type { MoodleSim } from '../platform';
import { HttpBrowser, parseForm } from './http-browser';
import { localhostCertificate } from './tls';

export interface RunningTool {
  jejak: Jejak;
  /** The tool's public URL (http://localhost:PORT). */
  url: string;
  /** Log lines the tool wrote, parsed. */
  logs: Record<string, any>[];
  close(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

/**
 * Starts Jejak on a free port against `db`, as `npm start` would, logs captured. With `https` it
 * serves TLS itself (self-signed for localhost), standing in for the school's HTTPS reverse proxy.
 */
export async function startTool(db: TestDatabase, overrides: Partial<Config> = {}, opts: { https?: boolean } = {}): Promise<RunningTool> {
  const port = await freePort();
  const config = loadConfig({}, {
    port, host: '127.0.0.1', publicUrl: `${opts.https ? 'https' : 'http'}://localhost:${port}`, databaseUrl: db.url,
    secret: 'test-secret-that-is-long-enough-0123456789', ...overrides,
  });
  const logs: Record<string, any>[] = [];
  const jejak = await createJejak(config, createLogger('debug', {}, (line) => logs.push(JSON.parse(line))));
  const server = opts.https ? https.createServer(localhostCertificate(), jejak.app) : http.createServer(jejak.app);
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return {
    jejak, url: config.publicUrl, logs,
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await jejak.close();
    },
  };
}

/** Manual registration on both sides, as IT does for an LMS without dynamic registration. */
export async function registerTool(sim: MoodleSim, tool: RunningTool): Promise<string> {
  const { clientId, deploymentId } = sim.addTool({
    loginUrl: `${tool.url}/lti/login`, redirectUris: [`${tool.url}/lti/launch`], jwksUrl: `${tool.url}/lti/jwks`,
    targetLinkUri: `${tool.url}/lti/launch`, deepLinkingUrl: `${tool.url}/lti/launch`,
  });
  await tool.jejak.platforms.register({
    issuer: sim.issuer, clientId, name: 'Moodle', authLoginUrl: sim.authUrl, tokenUrl: sim.tokenUrl, jwksUrl: sim.jwksUrl,
    source: 'manual', deploymentIds: [deploymentId],
  });
  return clientId;
}

/**
 * Dynamic Registration as a Moodle admin does it: the tool's registration URL (its key included)
 * opened from Moodle, Jejak's confirmation submitted, the pending tool activated. `registrationUrl`
 * is what Jejak prints (under whatever address IT gave it: a load balancer's, say). Returns the client id.
 */
export async function registerDynamically(sim: MoodleSim, registrationUrl: string): Promise<string> {
  const browser = new HttpBrowser();
  const page = await browser.get(sim.dynamicRegistrationUrl(registrationUrl));
  expect(page.status, page.body.slice(0, 300)).to.equal(200);
  const form = parseForm(page.body, page.url);
  expect(form, 'confirmation form').to.not.equal(undefined);
  const done = await browser.submitForm(form!);
  expect(done.status, done.body.slice(0, 300)).to.equal(200);
  expect(done.body).to.contain('/static/lti-close.js');
  const clientId = [...sim.tools.keys()].pop()!;
  sim.activateTool(clientId);
  return clientId;
}
