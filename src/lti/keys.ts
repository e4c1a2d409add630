import type { Config } from '../config';
import type { Db } from '../db/schema';
import type { Logger } from '../log';
import { AlreadyRotated, removeRetiredKeys, rotateKey, type RotatedKey } from './commands/rotateKey';

/**
 * The tool's signing keys over time: rotation on the configured schedule or by command, and removal of
 * retired keys once their overlap has passed. Safe to run in every process at once (rotateKey).
 */
export class SigningKeys {
  constructor(
    private readonly db: Db,
    private readonly secret: string,
    private readonly settings: Config['keys'],
    private readonly log: Logger,
  ) {}

  /** Rotates the keys of the platforms matching `filter` (all when empty) now. */
  async rotate(filter: { issuer?: string; clientId?: string }, actor: string, now = Date.now()): Promise<(RotatedKey & { issuer: string; clientId: string })[]> {
    const out = [];
    for (const p of await this.current()) {
      if (filter.issuer !== undefined && p.issuer !== filter.issuer) continue;
      if (filter.clientId !== undefined && p.clientId !== filter.clientId) continue;
      const r = await rotateKey({ db: this.db, secret: this.secret, issuer: p.issuer, clientId: p.clientId, overlapMs: this.overlapMs, actor, now });
      this.log.info('signing key rotated', { issuer: p.issuer, clientId: p.clientId, oldKid: r.oldKid, newKid: r.newKid, actor });
      out.push({ ...r, issuer: p.issuer, clientId: p.clientId });
    }
    return out;
  }

  /** The periodic work: rotate keys older than the rotation period, remove retired keys past their overlap. */
  async maintain(now = Date.now()): Promise<void> {
    if (this.settings.rotationDays > 0) {
      const oldest = now - this.settings.rotationDays * 86_400_000;
      for (const p of await this.current()) {
        if (p.createdAt > oldest) continue;
        try {
          await rotateKey({ db: this.db, secret: this.secret, issuer: p.issuer, clientId: p.clientId, fromKid: p.kid, overlapMs: this.overlapMs, actor: 'system', now });
          this.log.info('signing key rotated on schedule', { issuer: p.issuer, clientId: p.clientId });
        } catch (e) {
          if (!(e instanceof AlreadyRotated)) throw e;
        }
      }
    }
    const removed = await removeRetiredKeys({ db: this.db, secret: this.secret, now });
    if (removed.length) this.log.info('retired signing keys removed', { kids: removed });
  }

  private get overlapMs(): number {
    return this.settings.overlapHours * 3_600_000;
  }

  /** Each platform's current kid and when that key was made (ltijs's platform and public-key records). */
  private async current(): Promise<{ issuer: string; clientId: string; kid: string; createdAt: number }[]> {
    const rows = await this.db.selectFrom('ltijs_platform as p')
      .innerJoin('ltijs_publickey as k', 'k.k1', 'p.k3')
      .select(['p.k1 as issuer', 'p.k2 as clientId', 'p.k3 as kid', 'k.created_at as createdAt'])
      .orderBy('p.id').execute();
    return rows.map((r) => ({ issuer: r.issuer!, clientId: r.clientId!, kid: r.kid!, createdAt: Number(r.createdAt) }));
  }
}
