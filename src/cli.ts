import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from './config';
import { createJejak } from './app';
import { createLogger } from './log';

const USAGE = `Usage: npm run jejak -- <command>

  urls                                   print the URLs IT needs (registration, login, launch, JWKS)
  platform list [--json]                 list registered platforms and their deployments
  platform add --issuer URL --client-id ID --auth-url URL --token-url URL --jwks-url URL
               --deployment ID [--deployment ID …] [--name NAME]
                                         register a platform by hand (or add deployments to one)
  platform remove --issuer URL --client-id ID
                                         remove a platform, its keys and its deployments
  keys rotate [--issuer URL [--client-id ID]]
                                         give platforms (all, or the one named) a new signing key now; the
                                         old public key stays in the JWKS for the configured overlap
  kt …                                   knowledge-tracing commands (npm run jejak -- kt --help)
  privacy …                              export, erase, retention (npm run jejak -- privacy --help)`;

/** A mistake in the command line: one line of explanation, exit code 2. */
class UsageError extends Error {}

export async function runCli(argv: string[], out: (s: string) => void = (s) => process.stdout.write(s + '\n')): Promise<number> {
  const [command, sub, ...rest] = argv;
  if (!command || command === '--help' || command === 'help') {
    out(USAGE);
    return command ? 0 : 2;
  }
  if (command === 'kt') {
    const { runKtCli } = await import('./kt/cli');
    return runKtCli(argv.slice(1));
  }
  if (command === 'privacy') {
    const { runPrivacyCli } = await import('./privacy/cli');
    return runPrivacyCli(argv.slice(1), out);
  }
  if (command !== 'platform' && command !== 'urls' && command !== 'keys') throw new UsageError(`unknown command "${command}"`);

  const config = loadConfig();
  // A command does its one thing: no background work (jobs, grade sending) in the CLI process.
  const jejak = await createJejak({ ...config, backgroundWork: false }, createLogger('warn'));
  try {
    if (command === 'urls') {
      out(`Registration URL: ${jejak.urls.registration}`);
      out(`Login URL: ${jejak.urls.login}`);
      out(`Launch (redirect) URL: ${jejak.urls.launch}`);
      out(`JWKS URL: ${jejak.urls.jwks}`);
      return 0;
    }
    const args = sub === undefined ? [] : rest;
    if (command === 'keys') {
      if (sub !== 'rotate') throw new UsageError(`unknown keys command "${sub ?? ''}" (rotate)`);
      const { values } = parseArgs({ args, options: { issuer: { type: 'string' }, 'client-id': { type: 'string' } } });
      const rotated = await jejak.keys.rotate({ issuer: values.issuer, clientId: values['client-id'] }, 'cli');
      if (rotated.length === 0) throw new UsageError(values.issuer ? `no platform ${values.issuer}${values['client-id'] ? ` with client_id ${values['client-id']}` : ''} is registered` : 'no platforms registered');
      const until = new Date(rotated[0]!.removeAfter).toISOString();
      for (const k of rotated) out(`Rotated ${k.issuer} (client_id ${k.clientId}): new key ${k.newKid}; old key ${k.oldKid} published until ${until}.`);
      return 0;
    }
    if (sub === 'list') {
      const { values } = parseArgs({ args, options: { json: { type: 'boolean' } } });
      const all = await jejak.platforms.list();
      if (values.json) out(JSON.stringify(all, null, 2));
      else if (all.length === 0) out('No platforms registered.');
      else for (const p of all) out(`${p.issuer}  client_id=${p.clientId}  deployments=${p.deploymentIds.join(',') || '(none)'}  ${p.source}  ${p.name}`);
      return 0;
    }
    if (sub === 'add') {
      const { values } = parseArgs({
        args,
        options: {
          issuer: { type: 'string' }, 'client-id': { type: 'string' }, 'auth-url': { type: 'string' }, 'token-url': { type: 'string' },
          'jwks-url': { type: 'string' }, deployment: { type: 'string', multiple: true }, name: { type: 'string' },
        },
      });
      const issuer = url(values.issuer, '--issuer');
      const clientId = required(values['client-id'], '--client-id');
      const deployments = values.deployment ?? [];
      if (deployments.length === 0) throw new UsageError('--deployment is required (the deployment id the LMS shows)');
      const existing = await jejak.platforms.get(issuer, clientId);
      const p = await jejak.platforms.register({
        issuer, clientId,
        name: values.name ?? existing?.name ?? new URL(issuer).host,
        authLoginUrl: existing?.authLoginUrl ?? url(values['auth-url'], '--auth-url'),
        tokenUrl: existing?.tokenUrl ?? url(values['token-url'], '--token-url'),
        jwksUrl: existing?.jwksUrl ?? url(values['jwks-url'], '--jwks-url'),
        source: 'manual',
        deploymentIds: deployments,
      });
      out(`${existing ? 'Updated' : 'Registered'} ${p.issuer} (client_id ${p.clientId}); deployments: ${p.deploymentIds.join(', ')}`);
      return 0;
    }
    if (sub === 'remove') {
      const { values } = parseArgs({ args, options: { issuer: { type: 'string' }, 'client-id': { type: 'string' } } });
      const removed = await jejak.platforms.remove(url(values.issuer, '--issuer'), required(values['client-id'], '--client-id'));
      if (!removed) throw new UsageError(`no platform ${values.issuer} with client_id ${values['client-id']} is registered`);
      out(`Removed ${values.issuer} (client_id ${values['client-id']}).`);
      return 0;
    }
    throw new UsageError(`unknown platform command "${sub ?? ''}" (list, add, remove)`);
  } finally {
    await jejak.close();
  }
}

function required(v: string | undefined, name: string): string {
  if (!v) throw new UsageError(`${name} is required`);
  return v;
}

function url(v: string | undefined, name: string): string {
  const s = required(v, name);
  try {
    const u = new URL(s);
    if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error();
  } catch {
    throw new UsageError(`${name} must be an http(s) URL, got "${s}"`);
  }
  // Kept exactly as given: the issuer must equal the id_token's iss claim character for character.
  return s;
}

if (require.main === module) {
  runCli(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: Error) => {
      const known = e instanceof UsageError || e instanceof ConfigError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
      process.stderr.write(known ? `jejak: ${e.message}\n` : `jejak: failed: ${e.message}\n`);
      process.exit(known ? 2 : 1);
    },
  );
}
