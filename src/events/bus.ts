/**
 * Events between Jejak's processes, for live pages: a student's answer taken by one process must
 * reach the teacher's page served by another. On PostgreSQL through LISTEN/NOTIFY on one channel
 * (one dedicated connection per process); on SQLite (one process) through an in-process emitter.
 * Delivery is best effort: pages poll as well, events only make them quicker.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from '../log';

/** What happened; small (NOTIFY payloads are limited to 8000 bytes). */
export type JejakEvent =
  | { type: 'answer'; tenantId: number; activityId: number }
  /** A roster refresh of a course ended (src/teacher/roster.ts): `refreshed` false when it failed. */
  | { type: 'roster'; tenantId: number; contextId: string; refreshed: boolean };

export interface EventBus {
  publish(event: JejakEvent): Promise<void>;
  /** Calls `listener` for every event of any process; returns the unsubscribe. */
  subscribe(listener: (event: JejakEvent) => void): () => void;
  close(): Promise<void>;
}

const CHANNEL = 'jejak_events';

function fanOut(): { emitter: EventEmitter; subscribe: EventBus['subscribe'] } {
  const emitter = new EventEmitter();
  // One listener per open teacher page: many are expected, not a leak.
  emitter.setMaxListeners(0);
  return {
    emitter,
    subscribe(listener) {
      emitter.on('event', listener);
      return () => emitter.off('event', listener);
    },
  };
}

export function inProcessBus(): EventBus {
  const { emitter, subscribe } = fanOut();
  return {
    async publish(event) {
      emitter.emit('event', event);
    },
    subscribe,
    async close() {
      emitter.removeAllListeners();
    },
  };
}

/** LISTEN on a client of its own that reconnects when the server goes away (restart, failover). */
export async function postgresBus(connectionString: string, log: Logger, publish: (channel: string, payload: string) => Promise<void>): Promise<EventBus> {
  const pg = await import('pg');
  const { emitter, subscribe } = fanOut();
  let client: InstanceType<typeof pg.Client> | null = null;
  let closed = false;

  const reconnect = (): void => {
    if (!closed) setTimeout(() => listen().catch(reconnect), 1000).unref();
  };
  const listen = async (): Promise<void> => {
    const c = new pg.Client({ connectionString, application_name: 'jejak-events' });
    c.on('notification', (n) => {
      if (n.channel !== CHANNEL || !n.payload) return;
      try {
        emitter.emit('event', JSON.parse(n.payload) as JejakEvent);
      } catch (e) {
        log.warn('event not understood', { error: String(e) });
      }
    });
    c.on('error', (e) => {
      log.warn('event listener lost its connection; reconnecting', { error: e.message });
      c.end().catch(() => undefined);
      if (client === c) client = null;
      reconnect();
    });
    await c.connect();
    await c.query(`LISTEN ${CHANNEL}`);
    client = c;
  };
  await listen();

  return {
    // NOTIFY goes through Jejak's pool (any connection will do), not the listening one.
    publish: (event) => publish(CHANNEL, JSON.stringify(event)),
    subscribe,
    async close() {
      closed = true;
      emitter.removeAllListeners();
      await client?.end();
    },
  };
}
