import type { Db } from '../db/schema';
import { SecretBox } from '../crypto';

type Table =
  | 'ltijs_platform' | 'ltijs_platform_status' | 'ltijs_publickey' | 'ltijs_privatekey' | 'ltijs_accesstoken'
  | 'ltijs_nonce' | 'ltijs_state' | 'ltijs_idtoken' | 'ltijs_contexttoken';

/** How one ltijs collection is kept: its table, the fields it is queried by (→ k1…k4), its lifetime. */
interface Collection {
  table: Table;
  keys: string[];
  /** Seconds a record lives, as ltijs's Mongo schema expires it; undefined = forever. */
  ttl?: number;
}

const COLLECTIONS: Record<string, Collection> = {
  platform: { table: 'ltijs_platform', keys: ['platformUrl', 'clientId', 'kid'] },
  platformStatus: { table: 'ltijs_platform_status', keys: ['id'] },
  publickey: { table: 'ltijs_publickey', keys: ['kid', 'platformUrl', 'clientId'] },
  privatekey: { table: 'ltijs_privatekey', keys: ['kid', 'platformUrl', 'clientId'] },
  accesstoken: { table: 'ltijs_accesstoken', keys: ['platformUrl', 'clientId', 'scopes'], ttl: 3600 },
  nonce: { table: 'ltijs_nonce', keys: ['nonce'], ttl: 10 },
  state: { table: 'ltijs_state', keys: ['state'], ttl: 600 },
  idtoken: { table: 'ltijs_idtoken', keys: ['iss', 'clientId', 'deploymentId', 'user'], ttl: 24 * 3600 },
  contexttoken: { table: 'ltijs_contexttoken', keys: ['contextId', 'user'], ttl: 24 * 3600 },
};
const KEY_COLUMNS = ['k1', 'k2', 'k3', 'k4'] as const;

type Doc = Record<string, any>;

/**
 * ltijs 5.9's database-plugin interface on our SQL layer, so ltijs keeps its platforms, keys and
 * tokens in the same database and migrations as the rest of Jejak. Where ltijs passes an encryption
 * key (private/public keys, access tokens) the record is sealed with AES-GCM and only the fields it is
 * looked up by stay in clear, as ltijs's own Mongo store does.
 */
export class LtijsStore {
  private readonly box: SecretBox;

  constructor(private readonly db: Db, secret: string, private readonly now: () => number = Date.now) {
    this.box = new SecretBox(secret, 'ltijs-records');
  }

  async setup(): Promise<boolean> {
    return true;
  }

  async Close(): Promise<boolean> {
    return true;
  }

  async Get(encryptionKey: string | false, collection: string, query?: Doc): Promise<Doc[] | false> {
    const c = describe(collection);
    const rows = await this.matching(c, query).selectAll().execute();
    if (rows.length === 0) return false;
    return rows.map((row) => {
      const doc = encryptionKey ? JSON.parse(this.box.open(row.doc)) : JSON.parse(row.doc);
      return { ...doc, createdAt: row.created_at };
    });
  }

  async Insert(encryptionKey: string | false, collection: string, item: Doc, index?: Doc): Promise<boolean> {
    const c = describe(collection);
    if (!item || (encryptionKey && !index)) throw new Error('MISSING_PARAMS');
    await this.insertRow(c, item, encryptionKey ? index! : item, !!encryptionKey);
    return true;
  }

  async Replace(encryptionKey: string | false, collection: string, query: Doc, item: Doc, index?: Doc): Promise<boolean> {
    const c = describe(collection);
    if (!item || (encryptionKey && !index)) throw new Error('MISSING_PARAMS');
    await this.db.transaction().execute(async (trx) => {
      await deleteMatching(trx, c, query);
      await this.insertRow(c, item, encryptionKey ? index! : item, !!encryptionKey, trx);
    });
    return true;
  }

  async Modify(encryptionKey: string | false, collection: string, query: Doc, modification: Doc): Promise<boolean> {
    const c = describe(collection);
    if (!query || !modification) throw new Error('MISSING_PARAMS');
    const row = await this.matching(c, query).selectAll().executeTakeFirst();
    if (!row) return true;
    const sealed = !!encryptionKey;
    const doc = { ...JSON.parse(sealed ? this.box.open(row.doc) : row.doc), ...modification };
    const keySource = sealed ? { ...this.keyFields(c, row), ...pick(modification, c.keys) } : doc;
    await this.db.updateTable(c.table)
      .set({ doc: sealed ? this.box.seal(JSON.stringify(doc)) : JSON.stringify(doc), ...this.keyColumns(c, keySource) })
      .where('id', '=', row.id)
      .execute();
    return true;
  }

  async Delete(collection: string, query: Doc): Promise<boolean> {
    if (!query) throw new Error('MISSING_PARAMS');
    await deleteMatching(this.db, describe(collection), query);
    return true;
  }

  /** Removes every record past its lifetime; run periodically. Returns how many went. */
  async purgeExpired(): Promise<number> {
    let n = 0;
    for (const c of Object.values(COLLECTIONS)) {
      if (c.ttl === undefined) continue;
      const r = await this.db.deleteFrom(c.table).where('expires_at', '<=', this.now()).executeTakeFirst();
      n += Number(r.numDeletedRows);
    }
    return n;
  }

  private async insertRow(c: Collection, item: Doc, keySource: Doc, sealed: boolean, db: Db = this.db): Promise<void> {
    const now = this.now();
    const plain = JSON.stringify(item);
    await db.insertInto(c.table).values({
      ...this.keyColumns(c, keySource),
      doc: sealed ? this.box.seal(plain) : plain,
      created_at: now,
      expires_at: c.ttl === undefined ? null : now + c.ttl * 1000,
    }).execute();
  }

  private matching(c: Collection, query: Doc | undefined) {
    let q = this.db.selectFrom(c.table).where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', this.now())]));
    for (const [field, value] of Object.entries(query ?? {})) q = q.where(column(c, field), '=', String(value));
    return q;
  }


  private keyColumns(c: Collection, source: Doc): Partial<Record<(typeof KEY_COLUMNS)[number], string | null>> {
    const out: Partial<Record<(typeof KEY_COLUMNS)[number], string | null>> = {};
    c.keys.forEach((field, i) => {
      out[KEY_COLUMNS[i]] = source[field] === undefined || source[field] === null ? null : String(source[field]);
    });
    return out;
  }

  private keyFields(c: Collection, row: Record<string, any>): Doc {
    return Object.fromEntries(c.keys.map((field, i) => [field, row[KEY_COLUMNS[i]]]));
  }
}

function describe(collection: string): Collection {
  const c = COLLECTIONS[collection];
  if (!c) throw new Error(`ltijs store: unknown collection ${collection}`);
  return c;
}

async function deleteMatching(db: Db, c: Collection, query: Doc | undefined): Promise<void> {
  let q = db.deleteFrom(c.table);
  for (const [field, value] of Object.entries(query ?? {})) q = q.where(column(c, field), '=', String(value));
  await q.execute();
}

function column(c: Collection, field: string): (typeof KEY_COLUMNS)[number] {
  const i = c.keys.indexOf(field);
  // ltijs only ever queries by these fields; anything else is a programming error worth a loud failure.
  if (i < 0) throw new Error(`ltijs store: ${c.table} cannot be queried by ${field}`);
  return KEY_COLUMNS[i];
}

function pick(doc: Doc, fields: string[]): Doc {
  return Object.fromEntries(fields.filter((f) => f in doc).map((f) => [f, doc[f]]));
}
