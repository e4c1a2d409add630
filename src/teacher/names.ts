import { translate, type Locale } from '../web/i18n';
import type { Roster } from './roster';

/** The name a teacher's page shows for a user: the LMS's name (from the roster) when known, else the pseudonym. */
export function shownName(locale: Locale, userSub: string, rosterName?: string): string {
  return rosterName || translate(locale, 'teacher.pseudonym', { id: userSub });
}

/**
 * The names for a course's users as its class list shows them, so that a student is called the same on
 * every teacher page (class list, student page, grades, grade problems).
 */
export async function courseNames(
  roster: Pick<Roster, 'members'>,
  launch: { tenantId: number; contextId: string; claims: Record<string, any>; locale: Locale },
): Promise<(userSub: string) => string> {
  const members = await roster.members(launch);
  const names = new Map((members ?? []).map((m) => [m.userId, m.name]));
  return (userSub) => shownName(launch.locale, userSub, names.get(userSub));
}
