/**
 * What Jejak lets a launch do in its course, from the LTI roles claim (LTI 1.3 Core 5.3.7; role vocabularies, appendix A.2):
 * `teacher` manages the course's activities, `student` practises for a grade, `mentor` (a parent or
 * observer) reads the work of the learners named in the `role_scope_mentor` claim, `none` may only
 * read what the activity is and their own data.
 */
export type Audience = 'teacher' | 'student' | 'mentor' | 'none';

// Context (membership) roles decide; institution and system roles (`…/institution/person#Instructor`,
// `…/system/person#Administrator`) say what a person is elsewhere, never what they may do in this course.
// Moodle sends a site administrator `membership#Instructor` beside the two administrator roles (they may
// manage every activity), so administrators still land on the teacher home there.
const TEACHING = new Set(['Instructor', 'Administrator', 'ContentDeveloper']);

/**
 * The principal context role a role names: `membership#Instructor`, a sub-role's principal
 * (`membership/Instructor#TeachingAssistant` → Instructor), or a short name as NRPS (and LTI 1.3's
 * "simple names") give it (`Instructor`, `Instructor#TeachingAssistant`); undefined for institution, system and unknown roles.
 */
function contextRole(role: string): { principal: string; sub?: string } | undefined {
  const m = /^(?:http:\/\/purl\.imsglobal\.org\/vocab\/lis\/v2\/membership(?:#|\/))?(\w+)(?:#(\w+))?$/.exec(role);
  return m ? { principal: m[1]!, sub: m[2] } : undefined;
}

/**
 * The course audience of a set of roles: teacher when any context role teaches or administers the
 * course, else student when one learns (a guest learner does not practise for a grade), else mentor,
 * else none (a guest, no role at all, institution roles alone, or roles Jejak does not know).
 */
export function audienceOf(roles: readonly string[]): Audience {
  const context = roles.map(contextRole).filter((r) => r !== undefined);
  if (context.some((r) => TEACHING.has(r.principal))) return 'teacher';
  if (context.some((r) => r.sub === 'GuestLearner')) return 'none';
  if (context.some((r) => r.principal === 'Learner')) return 'student';
  if (context.some((r) => r.principal === 'Mentor')) return 'mentor';
  return 'none';
}
