import type { Generated, Kysely } from 'kysely';
import type { ItemDifficulty } from '../content/item';

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
  bank: BankTable;
  skill: SkillTable;
  skill_prerequisite: SkillPrerequisiteTable;
  item: ItemTable;
  item_skill: ItemSkillTable;
  bank_asset: BankAssetTable;
  activity: ActivityTable;
  activity_link: ActivityLinkTable;
  attempt: AttemptTable;
  kt_model: KtModelTable;
  kt_state: KtStateTable;
  kt_training_job: KtTrainingJobTable;
  kt_calibration: KtCalibrationTable;
  audit_event: AuditEventTable;
  score_outbox: ScoreOutboxTable;
  roster_cache: RosterCacheTable;
  student_override: StudentOverrideTable;
  practice_presentation: PracticePresentationTable;
  practice_progress: PracticeProgressTable;
  privacy_notice: PrivacyNoticeTable;
  student_group: StudentGroupTable;
  attempt_aggregate: AttemptAggregateTable;
  rate_limit_counter: RateLimitCounterTable;
  retired_key: RetiredKeyTable;
  admin_session: AdminSessionTable;
  admin_sign_in_limit: AdminSignInLimitTable;
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
  /** The address the login came from (as express sees it; an IPv6 client's /64): pending logins are capped per address. */
  client_address: string | null;
  /** When /lti/login/continue first ran for it (null before): a login is continued, and bound, once. */
  continued_at: number | null;
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

/** An item bank: skills and items. tenant_id null = shipped with Jejak, visible to every tenant. */
export interface BankTable {
  id: Generated<number>;
  tenant_id: number | null;
  /** Stable code, unique per tenant (e.g. 'sample-pecahan'). */
  code: string;
  title: string;
  /** 'id', 'en', or 'multi' when items carry both languages. */
  language: string;
  /** 'sample', 'moodle-xml', 'gift', 'csv'. */
  source: string;
  /** JSON: anything else about the bank (description, import report summary). */
  details: string;
  created_by: string | null;
  created_at: number;
  updated_at: number;
}

/** A skill (knowledge component) of a bank. */
export interface SkillTable {
  id: Generated<number>;
  bank_id: number;
  code: string;
  /** Display name in the bank's main language. */
  name: string;
  /** JSON: translated names, description, curriculum outcomes served (e.g. Kurikulum Merdeka). */
  details: string;
  position: number;
}

/** skill_id needs prerequisite_id mastered first. */
export interface SkillPrerequisiteTable {
  skill_id: number;
  prerequisite_id: number;
}

/** One question. `body` is JSON: stem, choices/answer specification, hints, solution, feedback (sanitised HTML). */
export interface ItemTable {
  id: Generated<number>;
  bank_id: number;
  code: string;
  /** 'multichoice', 'multiresponse', 'truefalse', 'numeric', 'shortanswer'. */
  kind: string;
  language: string;
  body: string;
  position: number;
  /** The teacher's difficulty tag from the imported file; null when untagged. */
  difficulty: ItemDifficulty | null;
  created_at: number;
}

/** An image of a bank, referred to from item text as `asset:NAME`. */
export interface BankAssetTable {
  bank_id: number;
  name: string;
  media_type: string;
  data: Buffer;
  created_at: number;
}

export interface ItemSkillTable {
  item_id: number;
  skill_id: number;
}

/** A practice activity a teacher placed in a course (deep linking), with its settings. */
export interface ActivityTable {
  id: Generated<number>;
  tenant_id: number;
  context_id: string;
  bank_id: number;
  title: string;
  /** JSON: chosen skills, mastery goal, length, grading mode, adaptivity. */
  settings: string;
  /** The AGS resourceId we gave its line item. */
  resource_id: string;
  /** The line item URL from deep linking or created through AGS. */
  line_item_url: string | null;
  created_by: string | null;
  created_at: number;
}

/** Which activity a resource link opens (a copied course gets new links to the same settings). */
export interface ActivityLinkTable {
  tenant_id: number;
  resource_link_id: string;
  activity_id: number;
  context_id: string;
}

/** One answer, stored before it is acknowledged. */
export interface AttemptTable {
  id: Generated<number>;
  tenant_id: number;
  context_id: string;
  activity_id: number;
  user_sub: string;
  item_id: number;
  /** JSON array of skill ids the item practises. */
  skill_ids: string;
  /** JSON: what the student answered. */
  response: string;
  correct: number;
  hints_used: number;
  duration_ms: number;
  /** 1 for a teacher's preview: never counted, never graded. */
  preview: number;
  created_at: number;
  /** JSON: the activity's tried skills' estimates right after this answer, { skill id: [p, low, high, answers, items] } (src/kt/estimate.ts); null for a preview or an answer before migration 0012. */
  estimates: string | null;
}

/** Item and skill difficulties learned from a tenant's attempts on a bank (src/kt/commands/calibrateBank.ts). */
export interface KtCalibrationTable {
  tenant_id: number;
  bank_id: number;
  /** Raised by each calibration: knowledge states carry it in their model key and are rebuilt when it changes. */
  version: number;
  /** JSON: src/kt/estimate.ts Calibration. */
  params: string;
  /** Non-preview attempts on the bank when it was computed. */
  answers: number;
  updated_at: number;
}

/** A trained knowledge-tracing model version. tenant_id null = trained on public data. */
export interface KtModelTable {
  id: Generated<number>;
  tenant_id: number | null;
  bank_id: number | null;
  version: number;
  /** 'active', 'candidate', 'retired', 'rolled-back' (src/kt/models.ts). */
  status: string;
  engine: string;
  variant: string;
  weights: Buffer;
  /** JSON: skill and item maps, hyper-parameters. */
  meta: string;
  /** JSON: validation/test AUC, ACC, RMSE, epochs, seconds per epoch. */
  metrics: string;
  data_size: number;
  created_at: number;
  activated_at: number | null;
  /** 1 when a student whose answers it was trained on was erased: retrain without them (src/privacy/). */
  retrain_needed: Generated<number>;
}

/** A student's knowledge-tracing state (LSTM h and c, or cold-start estimates) under one model. */
export interface KtStateTable {
  tenant_id: number;
  context_id: string;
  user_sub: string;
  bank_id: number;
  /** 'dkt:<model id>', or 'ability:<calibration version>' (the ability filter, src/kt/estimate.ts). */
  model_key: string;
  state: Buffer;
  /** Number of answers folded into the state. */
  steps: number;
  updated_at: number;
}

/** A background training of a bank's knowledge-tracing model (src/kt/jobs/). */
export interface KtTrainingJobTable {
  id: Generated<number>;
  tenant_id: number;
  bank_id: number;
  /** 'queued', 'running', 'succeeded', 'failed'. */
  status: string;
  /** 1 when a failed job may simply be run again (interrupted by a restart or shutdown). */
  retryable: number;
  /** Who asked: 'lti:<sub>', 'cli', 'system'. */
  requested_by: string;
  /** JSON: training options (hidden size, epochs, seed, variant). */
  options: string;
  /** JSON: variant, epoch, maxEpochs, batch, batches, loss, validAuc, etaSec. */
  progress: string;
  /** The runner instance that owns the job while it is queued or running. */
  runner: string | null;
  /** The model it produced. */
  model_id: number | null;
  error: string | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  /** Refreshed by the owning runner while the job is unfinished; a stale one means the runner died. */
  heartbeat_at: number;
}

/**
 * The latest score of a student in an activity, waiting for (or done with) delivery to the LMS
 * gradebook through AGS. One row per student and activity: a newer score replaces the one waiting.
 */
export interface ScoreOutboxTable {
  id: Generated<number>;
  tenant_id: number;
  context_id: string;
  activity_id: number;
  user_sub: string;
  score_given: number;
  score_maximum: number;
  /** 'Started', 'InProgress', 'Completed'. */
  activity_progress: string;
  /** 'FullyGraded', 'Pending'. */
  grading_progress: string;
  /** The score's AGS timestamp (epoch ms); each newer score of the row is at least one second later. */
  score_timestamp: number;
  /** Raised by every new score; delivery is recorded against the version it sent. */
  version: number;
  /** 'pending' (to send), 'delivered', 'failed' (given up; `problem` says why). */
  status: string;
  /** Delivery tries of the current version. */
  tries: number;
  next_try_at: number;
  /** A sender is delivering the row until then; a sender that died loses it when it passes. */
  lease_until: number | null;
  /** Why the last try failed: 'not_gradable', 'forbidden', 'not_found', 'no_line_item', 'unreachable', 'rejected', 'superseded'. */
  problem: string | null;
  /** The platform's own words (status and message), for the teacher and IT. */
  problem_detail: string | null;
  /** From the launch: the resource link's line item, the course's line items service, the AGS scopes granted. */
  line_item_url: string | null;
  line_items_url: string | null;
  /** JSON array. */
  ags_scopes: string;
  delivered_version: number | null;
  delivered_at: number | null;
  /** The version last handed to a sender to post (set with its lease): a refusal of it as not later may answer our own earlier post. */
  sent_version: number | null;
  updated_at: number;
}

/** The course roster from NRPS, shared by processes for a short while. */
export interface RosterCacheTable {
  tenant_id: number;
  context_id: string;
  /** JSON: members (user id, full role URIs, status; names and email only when configured to store them). */
  members: string;
  fetched_at: number;
}

/** What a teacher decided for one student in one activity, over the practice policy. */
export interface StudentOverrideTable {
  tenant_id: number;
  activity_id: number;
  user_sub: string;
  /** JSON arrays of skill ids. */
  unlocked_skills: string;
  skipped_skills: string;
  fixed_order: number;
  /** 'lti:<sub>' of the teacher. */
  updated_by: string;
  updated_at: number;
}

/** Append-only record of who did what to whose data. */
export interface AuditEventTable {
  id: Generated<number>;
  tenant_id: number | null;
  context_id: string | null;
  /** Who acted: 'lti:<sub>', 'admin', 'cli', 'system'. */
  actor: string;
  action: string;
  subject: string | null;
  details: string;
  created_at: number;
}

/** An item shown to a student; its token makes the answer idempotent and a relaunch resume on it. */
export interface PracticePresentationTable {
  token: string;
  tenant_id: number;
  context_id: string;
  activity_id: number;
  user_sub: string;
  preview: number;
  item_id: number;
  /** The skill the policy chose the item for. */
  skill_id: number;
  /** JSON: why the item was chosen (policy kind, mastery and predicted success then, stuck skill left). */
  reason: string;
  hints_used: number;
  solution_shown: number;
  presented_at: number;
  answered_at: number | null;
  attempt_id: number | null;
}

/** A student's progress through an activity (preview = a teacher trying it). */
export interface PracticeProgressTable {
  tenant_id: number;
  context_id: string;
  activity_id: number;
  user_sub: string;
  preview: number;
  answered: number;
  correct: number;
  started_at: number;
  /** When the student finished the activity (goal reached or length done); it stays finished. */
  completed_at: number | null;
  updated_at: number;
}

/** Requests counted in one fixed window of one rate-limit bucket ('launch:ip:203.0.113.9'). */
export interface RateLimitCounterTable {
  bucket: string;
  /** Epoch ms where the window starts. */
  window_start: number;
  hits: number;
}

/** A signing key replaced by rotation: its public key stays in the JWKS until remove_after, then both halves go. */
/** A signed-in /admin browser: the cookie holds the token, the database only its hash. */
export interface AdminSessionTable {
  token_hash: string;
  /** HMAC of the password it signed in with: a changed ADMIN_PASSWORD ends the session. */
  password_tag: string;
  created_at: number;
  expires_at: number;
}

/** Admin sign-in attempts counted in one bucket ('all', 'ip:<address>' or 'device:<id>'), and when the next is allowed. */
export interface AdminSignInLimitTable {
  bucket: string;
  /** Attempts since the bucket last succeeded or went quiet. */
  attempts: number;
  last_attempt_at: number;
  next_allowed_at: number;
}

export interface RetiredKeyTable {
  kid: string;
  issuer: string;
  client_id: string;
  successor_kid: string;
  retired_at: number;
  remove_after: number;
}

/** A student saw the first-launch privacy notice (once per tenant and user). */
export interface PrivacyNoticeTable {
  tenant_id: number;
  user_sub: string;
  shown_at: number;
}

/** The group (class) a school names for a student of a course, for the fairness report. */
export interface StudentGroupTable {
  tenant_id: number;
  context_id: string;
  user_sub: string;
  group_name: string;
}

/** Totals per item of attempts removed by retention: item statistics survive without per-student rows. */
export interface AttemptAggregateTable {
  tenant_id: number;
  context_id: string;
  activity_id: number;
  item_id: number;
  answers: number;
  correct: number;
  hints_used: number;
  duration_ms: number;
  updated_at: number;
}
