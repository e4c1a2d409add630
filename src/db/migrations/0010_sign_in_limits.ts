import type { Kysely } from 'kysely';
import type { Dialect } from '../connect';
import { columnTypes } from './columns';

/**
 * Bounds on what strangers can do: the client address of each pending login (capped per address) and
 * when it was continued (a login is continued, and bound to a browser, once),
 * server-side admin sessions (so that sign-out and a password change end them everywhere), and the
 * failed admin sign-ins per address, per browser and overall, with the delay they impose.
 */
export function signInLimits(dialect: Dialect) {
  const { time, key } = columnTypes(dialect);
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema.alterTable('oidc_login').addColumn('client_address', key).execute();
      await db.schema.alterTable('oidc_login').addColumn('continued_at', time).execute();
      await db.schema.createIndex('oidc_login_client_address').on('oidc_login').columns(['client_address', 'expires_at']).execute();

      await db.schema.createTable('admin_session')
        .addColumn('token_hash', key, (c) => c.primaryKey())
        // A digest of the password the session signed in with: a changed password no longer matches.
        .addColumn('password_tag', key, (c) => c.notNull())
        .addColumn('created_at', time, (c) => c.notNull())
        .addColumn('expires_at', time, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('admin_session_expires').on('admin_session').column('expires_at').execute();

      await db.schema.createTable('admin_sign_in_limit')
        .addColumn('bucket', key, (c) => c.primaryKey())
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('last_attempt_at', time, (c) => c.notNull())
        .addColumn('next_allowed_at', time, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('admin_sign_in_limit_last').on('admin_sign_in_limit').column('last_attempt_at').execute();
    },
  };
}
