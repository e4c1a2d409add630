/** What Jejak lets a launch do, from its LTI roles. */
export type Audience = 'teacher' | 'student';

// Context roles that may manage the activity (Moodle sends Instructor for non-editing teachers too),
// and institution/system administrators.
const TEACHING = /(#|\/)(Instructor|Administrator|ContentDeveloper|TeachingAssistant|Mentor\/?)$|membership\/Instructor#TeachingAssistant/;
const LEARNING = /(#|\/)Learner$|membership\/Learner#/;

/**
 * Teacher when any role teaches or administers, else student when a role learns; undefined when
 * neither (e.g. a guest), which gets a clear refusal. Short names (NRPS-style "Instructor") count too.
 */
export function audienceOf(roles: string[]): Audience | undefined {
  const full = roles.map((r) => (r.includes('/') ? r : `http://purl.imsglobal.org/vocab/lis/v2/membership#${r}`));
  if (full.some((r) => TEACHING.test(r) && !/#Learner$/.test(r))) return 'teacher';
  if (full.some((r) => LEARNING.test(r))) return 'student';
  return undefined;
}
