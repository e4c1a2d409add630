import fs from 'node:fs';
import path from 'node:path';
import type { Config } from './config';
import { ROOT } from './config';
import type { Db } from './db/schema';
import { insertIfAbsent } from './db/writes';
import { randomToken } from './crypto';

/**
 * The install's secret (encrypts keys at rest, derives other keys). Given explicitly, or generated on
 * first start into a file readable by the owner only — kept out of the database it protects.
 */
export function installSecret(config: Config): string {
  if (config.secret) return config.secret;
  const file = path.resolve(ROOT, config.secretFile);
  if (fs.existsSync(file)) {
    const secret = fs.readFileSync(file, 'utf8').trim();
    if (secret.length < 32) throw new Error(`${config.secretFile} holds a secret shorter than 32 characters`);
    return secret;
  }
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const secret = randomToken(32);
  fs.writeFileSync(file, secret + '\n', { mode: 0o600, flag: 'wx' });
  return secret;
}

/** The registration key IT pastes (inside the registration URL); generated once and kept. */
export async function registrationKey(db: Db, config: Config): Promise<string> {
  if (config.registrationKey) return config.registrationKey;
  const row = await db.selectFrom('install_setting').select('value').where('key', '=', 'registration_key').executeTakeFirst();
  if (row) return row.value;
  const key = randomToken(18);
  await insertIfAbsent(db, 'install_setting', { key: 'registration_key', value: key }, ['key']);
  const kept = await db.selectFrom('install_setting').select('value').where('key', '=', 'registration_key').executeTakeFirstOrThrow();
  return kept.value;
}
