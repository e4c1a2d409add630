import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../connect';
import { columnTypes } from './columns';

/** The LTI core: registrations, deployments (tenants), launches, and ltijs's collections. */
export function ltiCore(dialect: Dialect) {
  const { autoId, time, text, key } = columnTypes(dialect);

  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema.createTable('install_setting')
        .addColumn('key', key, (c) => c.primaryKey())
        .addColumn('value', text, (c) => c.notNull())
        .execute();

      await db.schema.createTable('registration')
        .addColumn('issuer', key, (c) => c.notNull())
        .addColumn('client_id', key, (c) => c.notNull())
        .addColumn('name', text, (c) => c.notNull())
        .addColumn('source', text, (c) => c.notNull())
        .addColumn('product', text)
        .addColumn('auth_login_url', text, (c) => c.notNull())
        .addColumn('token_url', text, (c) => c.notNull())
        .addColumn('jwks_url', text, (c) => c.notNull())
        .addColumn('details', text, (c) => c.notNull())
        .addColumn('created_at', time, (c) => c.notNull())
        .addPrimaryKeyConstraint('registration_pk', ['issuer', 'client_id'])
        .execute();

      await autoId(db.schema.createTable('deployment'))
        .addColumn('issuer', key, (c) => c.notNull())
        .addColumn('client_id', key, (c) => c.notNull())
        .addColumn('deployment_id', key, (c) => c.notNull())
        .addColumn('created_at', time, (c) => c.notNull())
        .addUniqueConstraint('deployment_unique', ['issuer', 'client_id', 'deployment_id'])
        .execute();

      await db.schema.createTable('oidc_login')
        .addColumn('state', key, (c) => c.primaryKey())
        .addColumn('nonce', text, (c) => c.notNull())
        .addColumn('issuer', text, (c) => c.notNull())
        .addColumn('client_id', text, (c) => c.notNull())
        .addColumn('deployment_id', text)
        .addColumn('target_link_uri', text, (c) => c.notNull())
        .addColumn('browser_binding', text)
        .addColumn('binding_kind', text, (c) => c.notNull())
        .addColumn('login_params', text, (c) => c.notNull())
        .addColumn('created_at', time, (c) => c.notNull())
        .addColumn('expires_at', time, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('oidc_login_expiry').on('oidc_login').column('expires_at').execute();

      await db.schema.createTable('used_nonce')
        .addColumn('issuer', key, (c) => c.notNull())
        .addColumn('nonce', key, (c) => c.notNull())
        .addColumn('expires_at', time, (c) => c.notNull())
        .addPrimaryKeyConstraint('used_nonce_pk', ['issuer', 'nonce'])
        .execute();

      await db.schema.createTable('launch_session')
        .addColumn('id', key, (c) => c.primaryKey())
        .addColumn('tenant_id', 'integer', (c) => c.notNull().references('deployment.id').onDelete('cascade'))
        .addColumn('context_id', key, (c) => c.notNull())
        .addColumn('resource_link_id', text)
        .addColumn('user_sub', text, (c) => c.notNull())
        .addColumn('roles', text, (c) => c.notNull())
        .addColumn('message_type', text, (c) => c.notNull())
        .addColumn('locale', text, (c) => c.notNull())
        .addColumn('claims', text, (c) => c.notNull())
        .addColumn('binding', text)
        .addColumn('created_at', time, (c) => c.notNull())
        .addColumn('expires_at', time, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('launch_session_expiry').on('launch_session').column('expires_at').execute();

      await db.schema.createTable('course_context')
        .addColumn('tenant_id', 'integer', (c) => c.notNull().references('deployment.id').onDelete('cascade'))
        .addColumn('context_id', key, (c) => c.notNull())
        .addColumn('label', text)
        .addColumn('title', text)
        .addColumn('updated_at', time, (c) => c.notNull())
        .addPrimaryKeyConstraint('course_context_pk', ['tenant_id', 'context_id'])
        .execute();

      for (const name of LTIJS_TABLES) {
        await autoId(db.schema.createTable(name))
          .addColumn('k1', text)
          .addColumn('k2', text)
          .addColumn('k3', text)
          .addColumn('k4', text)
          .addColumn('doc', text, (c) => c.notNull())
          .addColumn('created_at', time, (c) => c.notNull())
          .addColumn('expires_at', time)
          .execute();
        const index = db.schema.createIndex(`${name}_keys`).on(name);
        const keys = ['k1', 'k2', 'k3', 'k4'];
        // MySQL indexes TEXT only by a prefix: four of 191 utf8mb4 characters fit InnoDB's 3072-byte keys.
        await (dialect === 'mysql' ? index.expression(sql.join(keys.map((k) => sql`${sql.ref(k)}(191)`))) : index.columns(keys)).execute();
      }
    },
  };
}

export const LTIJS_TABLES = [
  'ltijs_platform', 'ltijs_platform_status', 'ltijs_publickey', 'ltijs_privatekey', 'ltijs_accesstoken',
  'ltijs_nonce', 'ltijs_state', 'ltijs_idtoken', 'ltijs_contexttoken',
] as const;
