import type { Generated, Kysely } from 'kysely';

/**
 * The database, as Kysely sees it. Times are epoch milliseconds (bigint in PostgreSQL, integer in
 * SQLite); JSON is stored as text so both dialects treat it alike.
 */
export interface Database {
  install_setting: InstallSettingTable;
  registration: RegistrationTable;
  deployment: DeploymentTable;
  oidc_login: OidcLoginTable;
  used_nonce: UsedNonceTable;
  launch_session: LaunchSessionTable;
  course_context: CourseContextTable;
  // ltijs's own collections, behind its database-plugin interface (src/lti/ltijs-store.ts).
  ltijs_platform: LtijsRecordTable;
  ltijs_platform_status: LtijsRecordTable;
  ltijs_publickey: LtijsRecordTable;
  ltijs_privatekey: LtijsRecordTable;
  ltijs_accesstoken: LtijsRecordTable;
  ltijs_nonce: LtijsRecordTable;
  ltijs_state: LtijsRecordTable;
  ltijs_idtoken: LtijsRecordTable;
  ltijs_contexttoken: LtijsRecordTable;
}

export type Db = Kysely<Database>;

/** Values generated once per install (registration key). */
export interface InstallSettingTable {
  key: string;
  value: string;
}

/** A platform (issuer + client id) and how it was registered; its keys live in ltijs's tables. */
export interface RegistrationTable {
  issuer: string;
  client_id: string;
  name: string;
  /** 'dynamic' (LTI Dynamic Registration) or 'manual' (CLI). */
  source: string;
  /** The platform's product family code, e.g. 'moodle', when it told us. */
  product: string | null;
  auth_login_url: string;
  token_url: string;
  jwks_url: string;
  /** JSON: scopes granted, messages, the platform's OpenID configuration (dynamic only). */
  details: string;
  created_at: number;
}

/**
 * A deployment of the tool on a platform. Its id is the tenant id: every table that holds course or
 * student data carries it, so a query names its tenant explicitly.
 */
export interface DeploymentTable {
  id: Generated<number>;
  issuer: string;
  client_id: string;
  deployment_id: string;
  created_at: number;
}

/** One OIDC login initiation we answered; the launch that follows must present its state and nonce. */
export interface OidcLoginTable {
  state: string;
  nonce: string;
  issuer: string;
  client_id: string;
  /** The deployment id the platform named at login (lti_deployment_id), if any. */
  deployment_id: string | null;
  target_link_uri: string;
  /** SHA-256 of the browser-binding cookie, or null when the state is kept in platform storage. */
  browser_binding: string | null;
  /** 'cookie' or 'platform' (LTI client-side postMessage storage). */
  binding_kind: string;
  /** JSON: the login initiation's parameters, to restart it in a new window when cookies are blocked. */
  login_params: string;
  created_at: number;
  expires_at: number;
}

/** Nonces of accepted id_tokens, kept until the token could no longer be valid. */
export interface UsedNonceTable {
  issuer: string;
  nonce: string;
  expires_at: number;
}

/** A successful launch: what the pages after it may know about the user. */
export interface LaunchSessionTable {
  id: string;
  tenant_id: number;
  context_id: string;
  resource_link_id: string | null;
  user_sub: string;
  /** JSON array of role URIs. */
  roles: string;
  message_type: string;
  locale: string;
  /** JSON: the claims later services need (AGS endpoint, NRPS, deep-linking settings, custom). */
  claims: string;
  /** SHA-256 of the session cookie when the browser kept cookies; null when the session rides in the URL alone. */
  binding: string | null;
  created_at: number;
  expires_at: number;
}

/** A course (LTI context) of a tenant. */
export interface CourseContextTable {
  tenant_id: number;
  context_id: string;
  label: string | null;
  title: string | null;
  updated_at: number;
}

/**
 * One document of an ltijs collection: the fields ltijs queries by are columns (`k1`–`k4`, named per
 * collection in ltijs-store.ts); the rest is JSON in `doc`, encrypted for keys and access tokens.
 */
export interface LtijsRecordTable {
  id: Generated<number>;
  k1: string | null;
  k2: string | null;
  k3: string | null;
  k4: string | null;
  doc: string;
  created_at: number;
  expires_at: number | null;
}
