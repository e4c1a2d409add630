/**
 * Public types and constants of the Moodle-like LTI 1.3 platform simulator (see ./index.ts).
 */

export const LTI = {
  claim: 'https://purl.imsglobal.org/spec/lti/claim/',
  messageType: 'https://purl.imsglobal.org/spec/lti/claim/message_type',
  version: 'https://purl.imsglobal.org/spec/lti/claim/version',
  deploymentId: 'https://purl.imsglobal.org/spec/lti/claim/deployment_id',
  targetLinkUri: 'https://purl.imsglobal.org/spec/lti/claim/target_link_uri',
  roles: 'https://purl.imsglobal.org/spec/lti/claim/roles',
  context: 'https://purl.imsglobal.org/spec/lti/claim/context',
  resourceLink: 'https://purl.imsglobal.org/spec/lti/claim/resource_link',
  launchPresentation: 'https://purl.imsglobal.org/spec/lti/claim/launch_presentation',
  toolPlatform: 'https://purl.imsglobal.org/spec/lti/claim/tool_platform',
  custom: 'https://purl.imsglobal.org/spec/lti/claim/custom',
  lis: 'https://purl.imsglobal.org/spec/lti/claim/lis',
  ext: 'https://purl.imsglobal.org/spec/lti/claim/ext',
  forUser: 'https://purl.imsglobal.org/spec/lti/claim/for_user',
  basicOutcome: 'https://purl.imsglobal.org/spec/lti-bo/claim/basicoutcome',
  agsEndpoint: 'https://purl.imsglobal.org/spec/lti-ags/claim/endpoint',
  nrps: 'https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice',
  dlSettings: 'https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings',
  dlContentItems: 'https://purl.imsglobal.org/spec/lti-dl/claim/content_items',
  dlData: 'https://purl.imsglobal.org/spec/lti-dl/claim/data',
  dlMsg: 'https://purl.imsglobal.org/spec/lti-dl/claim/msg',
  dlLog: 'https://purl.imsglobal.org/spec/lti-dl/claim/log',
  dlErrorMsg: 'https://purl.imsglobal.org/spec/lti-dl/claim/errormsg',
  dlErrorLog: 'https://purl.imsglobal.org/spec/lti-dl/claim/errorlog',
  toolConfiguration: 'https://purl.imsglobal.org/spec/lti-tool-configuration',
  platformConfiguration: 'https://purl.imsglobal.org/spec/lti-platform-configuration',
} as const;

export const SCOPES = {
  lineItem: 'https://purl.imsglobal.org/spec/lti-ags/scope/lineitem',
  lineItemReadOnly: 'https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly',
  resultReadOnly: 'https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly',
  score: 'https://purl.imsglobal.org/spec/lti-ags/scope/score',
  nrps: 'https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly',
  toolSetting: 'https://purl.imsglobal.org/spec/lti-ts/scope/toolsetting',
} as const;

export const MEDIA = {
  score: 'application/vnd.ims.lis.v1.score+json',
  lineItem: 'application/vnd.ims.lis.v2.lineitem+json',
  lineItemContainer: 'application/vnd.ims.lis.v2.lineitemcontainer+json',
  resultContainer: 'application/vnd.ims.lis.v2.resultcontainer+json',
  membershipContainer: 'application/vnd.ims.lti-nrps.v2.membershipcontainer+json',
} as const;

export const ROLE_URI = {
  Learner: 'http://purl.imsglobal.org/vocab/lis/v2/membership#Learner',
  Instructor: 'http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor',
} as const;

export type CourseRole = 'Learner' | 'Instructor';
export type MessageType = 'LtiResourceLinkRequest' | 'LtiDeepLinkingRequest' | 'LtiSubmissionReviewRequest';
export type Presentation = 'iframe' | 'window';
export type Locale = 'en' | 'id';
export type Claims = Record<string, unknown>;

/** Options of {@link MoodleSim.start}. */
export interface MoodleSimOptions {
  /** Interface to listen on; default 127.0.0.1. */
  host?: string;
  /** Port; 0 (default) = random. */
  port?: number;
  /**
   * Send `lti_storage_target` (frame `post_message_forwarding`) and answer the LTI client-side
   * postMessage storage messages. Default false, like Moodle 5.1.
   */
  storageTarget?: boolean;
  /** Offset (seconds) added to the platform's clock for everything it signs and checks. */
  clockSkewSec?: number;
  /** Seed of the PRNG used by fault injection (default 42). */
  seed?: number;
  /**
   * Token endpoint: require the client assertion's `aud` to be the token endpoint URL or the issuer
   * (spec). Moodle itself does not check `aud` (nor `jti`); default true (stricter than Moodle).
   */
  strictAssertionAudience?: boolean;
  /** Enforce single use of the client assertion `jti` (spec; Moodle does not). Default true. */
  singleUseAssertionJti?: boolean;
}

/** How a tool was added and what the platform gives it (Moodle's "tool type"). */
export interface SimTool {
  clientId: string;
  /** Moodle tool type id of the registration (also its first deployment id). */
  typeId: number;
  /** All deployment ids of this client (first one = typeId). */
  deploymentIds: string[];
  name: string;
  source: 'dynamic' | 'manual';
  /** Dynamic registrations are 'pending' until {@link MoodleSim.activateTool}. */
  state: 'pending' | 'active';
  loginUrl: string;
  redirectUris: string[];
  jwksUrl: string;
  targetLinkUri: string;
  domain?: string;
  deepLinking: boolean;
  deepLinkingUrl?: string;
  submissionReviewUrl?: string;
  shareName: boolean;
  shareEmail: boolean;
  /** 0 = no grades, 1 = "grade sync only", 2 = "grade sync and column management" (lineitem scope). */
  gradeSync: 0 | 1 | 2;
  memberships: boolean;
  /** Scopes the token endpoint grants to this client. */
  scopes: string[];
  customParameters: Record<string, string>;
  /** Raw registration JSON received (dynamic registration only). */
  registration?: Record<string, unknown>;
  /** `claims` the registration asked for (dynamic registration only). */
  claimsRequested?: string[];
  /** `messages` of the registration (dynamic registration only). */
  messages?: Array<Record<string, unknown>>;
}

export interface AddToolOptions {
  loginUrl: string;
  redirectUris: string[];
  jwksUrl: string;
  targetLinkUri: string;
  name?: string;
  deepLinkingUrl?: string;
  /** Turn deep linking on (default: on when deepLinkingUrl is given). */
  deepLinking?: boolean;
  shareName?: boolean;
  shareEmail?: boolean;
  /** Services granted (default: full AGS + NRPS). */
  scopes?: string[];
  customParameters?: Record<string, string>;
}

export interface SimCourse {
  id: string;
  label: string;
  title: string;
}

export interface SimUser {
  id: string;
  name: string;
  given: string;
  family: string;
  email: string;
  username: string;
}

export interface LineItemSpec {
  scoreMaximum: number;
  label?: string;
  resourceId?: string;
  tag?: string;
}

export interface SimLineItem {
  /** Numeric id (Moodle grade item id). */
  id: number;
  courseId: string;
  typeId: string;
  clientId: string;
  label: string;
  scoreMaximum: number;
  resourceId?: string;
  tag?: string;
  /** Activity (resource link) it belongs to, if any. */
  resourceLinkId?: string;
  startDateTime?: string;
  endDateTime?: string;
  /** True for the activity's own grade item (cannot be deleted through AGS, as in Moodle). */
  activityItem: boolean;
  /** The id URL (`…/lineitems/{id}/lineitem?type_id=N`). */
  url: string;
}

export interface AddActivityOptions {
  courseId: string;
  clientId: string;
  /** Deployment to use (default: the tool's first deployment). */
  deploymentId?: string;
  title: string;
  description?: string;
  /** Launch URL (default: tool's target_link_uri). */
  url?: string;
  custom?: Record<string, string>;
  /** Accept grades: creates the activity's line item. */
  lineItem?: LineItemSpec;
}

export interface SimActivity {
  /** LTI instance id = resource_link.id. */
  id: string;
  /** Course module id (used in lti_message_hint). */
  cmid: number;
  courseId: string;
  clientId: string;
  deploymentId: string;
  title: string;
  description: string;
  url?: string;
  custom: Record<string, string>;
  lineItemId?: number;
}

/** Options of a launch (login initiation). */
export interface LaunchOptions {
  clientId: string;
  userId: string;
  courseId: string;
  /** Resource link id (activity id); required for resource link and submission review launches. */
  activityId?: string;
  messageType?: MessageType;
  locale?: Locale;
  /** How the login initiation is sent to the tool (Moodle POSTs). */
  method?: 'GET' | 'POST';
  /** Override the target_link_uri sent. */
  targetLinkUri?: string;
  /** Deployment (default: the activity's, else the tool's first). */
  deploymentId?: string;
  /** Submission review: the learner whose submission is reviewed (default: first learner). */
  forUserId?: string;
  /** Deep linking: title/text/data of the settings claim. */
  dlTitle?: string;
  dlText?: string;
  dlData?: string;
  /** Presentation the launch is made in (sets document_target / return_url). Default 'iframe'. */
  presentation?: Presentation;
  /** Tamper with the id_token the auth endpoint will post for this launch. */
  tamper?: MintOptions & { claims?: Claims | ((claims: Claims) => Claims) };
}

export interface LoginInitiation {
  /** The tool's initiate_login_uri. */
  url: string;
  method: 'GET' | 'POST';
  /** Parameters as Moodle sends them. */
  params: Record<string, string>;
  launchId: string;
  /** The MoodleSession cookie (name=value) the auth request must carry. */
  cookie: string;
  /** Full URL with params in the query (for GET). */
  getUrl: string;
}

export interface MintOptions {
  /** Header kid (default: the platform key's kid). */
  kid?: string;
  /** 'platform' (default) signs with the published key; 'other' with a key that is not published. */
  key?: 'platform' | 'other';
  /** Signing alg (default RS256; 'none' produces an unsigned token; 'HS256' uses a fixed secret). */
  alg?: string;
  /** Claim names to remove. */
  omit?: string[];
  /** Lifetime in seconds (default 60, like Moodle). */
  expiresIn?: number;
  /** Added to iat (and exp) — negative = in the past. */
  iatOffsetSec?: number;
}

export interface AuthRequestRecord {
  at: Date;
  method: 'GET' | 'POST';
  params: Record<string, string>;
  /** 'form' = id_token posted; 'error-post' = error posted to redirect_uri; 'error-page' = error shown by the platform; 'repost' = cross-site repost page. */
  outcome: 'form' | 'error-post' | 'error-page' | 'repost';
  error?: string;
  errorDescription?: string;
  idToken?: string;
  claims?: Claims;
  state?: string;
  redirectUri?: string;
  launchId?: string;
}

export interface RecordedScore {
  at: Date;
  lineItemId: number;
  lineItemUrl: string;
  courseId: string;
  clientId: string;
  userId: string;
  /** The JSON body as posted. */
  body: Record<string, unknown>;
}

/** A score the gradebook refused (400 invalid, 409 not later than the grade it holds: e.g. sent twice). */
export interface RefusedScore extends RecordedScore {
  status: 400 | 409;
  reason: string;
}

export interface StoredGrade {
  userId: string;
  lineItemId: number;
  scoreGiven: number | null;
  scoreMaximum: number;
  comment?: string;
  activityProgress: string;
  gradingProgress: string;
  /** Whole seconds (Moodle's timemodified); null when the score held no grade on the activity's own item (never graded, as Moodle keeps it). */
  timemodified: number | null;
  timestamp: string;
}

export interface DeepLinkResponseRecord {
  at: Date;
  clientId: string;
  deploymentId: string;
  courseId: string;
  claims: Claims;
  contentItems: Array<Record<string, unknown>>;
  /** Activities created from ltiResourceLink items. */
  activityIds: string[];
  /** Why the platform refused the response (nothing was created), if it did. */
  error?: string;
}

export interface FaultSpec {
  /** Fraction (0..1) of requests answered with `status` (seeded PRNG). */
  failRate?: number;
  status?: 500 | 503 | 429;
  /** Retry-After header (seconds) on injected failures. */
  retryAfterSec?: number;
  /** Delay before every answer (ms). */
  delayMs?: number;
  /** Drop every connection (the service is unreachable). */
  down?: boolean;
}

export interface FaultConfig {
  ags?: FaultSpec;
  nrps?: FaultSpec;
  token?: FaultSpec;
}

export interface SimStats {
  tokenRequests: number;
  tokensIssued: number;
  agsRequests: number;
  nrpsRequests: number;
  authRequests: number;
  registrationRequests: number;
  jwksFetches: number;
  injectedFaults: number;
}

export interface AccessTokenRecord {
  token: string;
  clientId: string;
  scopes: string[];
  expiresAt: number;
}
