import { importPKCS8, SignJWT } from 'jose';
import { randomToken } from '../crypto';
import { CLAIM } from '../lti/claims';
import type { Platforms } from '../lti/platforms';
import type { LaunchContext } from '../web/session';
import { ACTIVITY_PARAM, type Activity } from './activities';

const DL = {
  contentItems: 'https://purl.imsglobal.org/spec/lti-dl/claim/content_items',
  data: 'https://purl.imsglobal.org/spec/lti-dl/claim/data',
} as const;

/** The tag of every gradebook column Jejak asks for, so grade passback can find its own. */
export const LINE_ITEM_TAG = 'jejak-practice';

export interface DeepLinkingSettings {
  deep_link_return_url: string;
  accept_types: string[];
  accept_multiple?: boolean | string;
  accept_lineitem?: boolean | string;
  data?: string;
}

/** Whether the platform takes what Jejak places: an LTI resource link. */
export function acceptsResourceLinks(settings: DeepLinkingSettings): boolean {
  return settings.accept_types.includes('ltiResourceLink');
}

/** A boolean the platform may send as a string ("false"). */
const yes = (v: boolean | string | undefined, absent: boolean) => (v === undefined ? absent : v === true || v === 'true');

/**
 * The LtiDeepLinkingResponse for a deep-linking launch (LTI Deep Linking 2.0 §4.2), signed with this
 * tool's key for the platform: one resource link that opens `activity`, with a gradebook column, and
 * the activity's id in its custom parameters so a copied link still finds its settings.
 */
export async function deepLinkingResponse(platforms: Platforms, launch: LaunchContext, activity: Activity, launchUrl: string, text: string): Promise<{ returnUrl: string; jwt: string }> {
  const settings = launch.claims[CLAIM.deepLinkingSettings] as DeepLinkingSettings;
  const issuer = launch.claims.iss as string;
  const clientId = launch.claims.aud as string;
  const platform = await platforms.ltijsPlatform(issuer, clientId);
  if (!platform) throw new Error(`platform ${issuer} (${clientId}) has no key pair`);
  const key = await importPKCS8(await platform.platformPrivateKey(), 'RS256');

  const item: Record<string, unknown> = {
    type: 'ltiResourceLink',
    title: activity.title,
    text,
    url: launchUrl,
    custom: { [ACTIVITY_PARAM]: activity.resourceId },
  };
  if (yes(settings.accept_lineitem, true)) {
    item.lineItem = { label: activity.title, scoreMaximum: 100, resourceId: activity.resourceId, tag: LINE_ITEM_TAG };
  }
  // Jejak places one link per request, which every platform accepts whatever accept_multiple says.
  const items = acceptsResourceLinks(settings) ? [item] : [];
  const payload: Record<string, unknown> = {
    nonce: randomToken(16),
    [CLAIM.messageType]: 'LtiDeepLinkingResponse',
    [CLAIM.version]: '1.3.0',
    [CLAIM.deploymentId]: launch.claims[CLAIM.deploymentId],
    [DL.contentItems]: items,
  };
  if (settings.data !== undefined) payload[DL.data] = settings.data;
  const jwt = await new SignJWT(payload)
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: await platform.platformKid() })
    .setIssuer(clientId)
    .setAudience(issuer)
    .setIssuedAt()
    .setExpirationTime('10m')
    .sign(key);
  return { returnUrl: settings.deep_link_return_url, jwt };
}
