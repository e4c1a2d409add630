/** Indonesia's zones by the names schools use; other zones are shown by their IANA name. */
const ABBREVIATIONS: Record<string, string> = {
  'Asia/Jakarta': 'WIB', 'Asia/Pontianak': 'WIB', 'Asia/Makassar': 'WITA', 'Asia/Jayapura': 'WIT',
};

/** The zone as a teacher reads it after a time: "WIB", "WITA", "WIT", else "UTC" or the IANA name. */
export function zoneLabel(zone: string): string {
  return ABBREVIATIONS[zone] ?? (/^(Etc\/)?(UTC|GMT)$/i.test(zone) ? 'UTC' : zone);
}

/** A moment in the school's time zone: date "2025-03-14" and time "14:26" (24-hour clock). */
export function schoolTime(at: number, zone: string): { date: string; time: string } {
  const parts = Object.fromEntries(new Intl.DateTimeFormat('en-GB', {
    timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
  }).formatToParts(at).map((p) => [p.type, p.value]));
  return { date: `${parts.year}-${parts.month}-${parts.day}`, time: `${parts.hour}:${parts.minute}` };
}

/** Date and time to the minute with the zone, as every teacher page shows a moment: "2025-03-14 14:26 WIB". */
export function schoolDateTime(at: number, zone: string): string {
  const t = schoolTime(at, zone);
  return `${t.date} ${t.time} ${zoneLabel(zone)}`;
}
