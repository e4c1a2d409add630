import { z } from 'zod';

/** Claim names of LTI 1.3 Core, Deep Linking, AGS and NRPS. */
export const CLAIM = {
  messageType: 'https://purl.imsglobal.org/spec/lti/claim/message_type',
  version: 'https://purl.imsglobal.org/spec/lti/claim/version',
  deploymentId: 'https://purl.imsglobal.org/spec/lti/claim/deployment_id',
  targetLinkUri: 'https://purl.imsglobal.org/spec/lti/claim/target_link_uri',
  resourceLink: 'https://purl.imsglobal.org/spec/lti/claim/resource_link',
  roles: 'https://purl.imsglobal.org/spec/lti/claim/roles',
  roleScopeMentor: 'https://purl.imsglobal.org/spec/lti/claim/role_scope_mentor',
  context: 'https://purl.imsglobal.org/spec/lti/claim/context',
  toolPlatform: 'https://purl.imsglobal.org/spec/lti/claim/tool_platform',
  launchPresentation: 'https://purl.imsglobal.org/spec/lti/claim/launch_presentation',
  custom: 'https://purl.imsglobal.org/spec/lti/claim/custom',
  forUser: 'https://purl.imsglobal.org/spec/lti/claim/for_user',
  deepLinkingSettings: 'https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings',
  agsEndpoint: 'https://purl.imsglobal.org/spec/lti-ags/claim/endpoint',
  nrps: 'https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice',
} as const;

export const MESSAGE_TYPES = ['LtiResourceLinkRequest', 'LtiDeepLinkingRequest', 'LtiSubmissionReviewRequest'] as const;
export type MessageType = (typeof MESSAGE_TYPES)[number];

const Context = z.object({ id: z.string().min(1), label: z.string().optional(), title: z.string().optional(), type: z.array(z.string()).optional() }).loose();
const ResourceLink = z.object({ id: z.string().min(1), title: z.string().optional(), description: z.string().optional() }).loose();
const DeepLinkingSettings = z.object({
  deep_link_return_url: z.string().url(),
  accept_types: z.array(z.string()).min(1),
  accept_presentation_document_targets: z.array(z.string()).min(1),
  accept_multiple: z.union([z.boolean(), z.string()]).optional(),
  auto_create: z.union([z.boolean(), z.string()]).optional(),
  title: z.string().optional(),
  text: z.string().optional(),
  data: z.string().optional(),
}).loose();
const AgsEndpoint = z.object({ scope: z.array(z.string()), lineitems: z.string().url().optional(), lineitem: z.string().url().optional() }).loose();
const Nrps = z.object({ context_memberships_url: z.string().url(), service_versions: z.array(z.string()).optional() }).loose();

/**
 * The LTI claims Jejak relies on, checked after the signature and the OIDC claims. Parsed at the edge
 * so everything after the launch works with exact types.
 */
export const LtiClaims = z.object({
  sub: z.string().min(1),
  [CLAIM.version]: z.string(),
  [CLAIM.messageType]: z.string(),
  [CLAIM.deploymentId]: z.string().min(1),
  [CLAIM.targetLinkUri]: z.string().url(),
  [CLAIM.roles]: z.array(z.string()),
  // The learners a mentor (parent, observer) follows: their user ids, as `sub` gives them (LTI 1.3 Core, role-scope mentor claim).
  [CLAIM.roleScopeMentor]: z.array(z.string()).optional(),
  [CLAIM.context]: Context.optional(),
  [CLAIM.resourceLink]: ResourceLink.optional(),
  [CLAIM.launchPresentation]: z.object({ locale: z.string().optional(), document_target: z.string().optional(), return_url: z.string().optional() }).loose().optional(),
  [CLAIM.toolPlatform]: z.object({ name: z.string().optional(), product_family_code: z.string().optional(), guid: z.string().optional() }).loose().optional(),
  [CLAIM.custom]: z.record(z.string(), z.unknown()).optional(),
  [CLAIM.forUser]: z.object({ user_id: z.string() }).loose().optional(),
  [CLAIM.deepLinkingSettings]: DeepLinkingSettings.optional(),
  [CLAIM.agsEndpoint]: AgsEndpoint.optional(),
  [CLAIM.nrps]: Nrps.optional(),
  given_name: z.string().optional(),
  family_name: z.string().optional(),
  name: z.string().optional(),
  email: z.string().optional(),
}).loose();
export type LtiClaims = z.infer<typeof LtiClaims>;
