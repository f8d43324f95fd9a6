/**
 * Strict parsing of the ISO-8601 times users type (CLI options, explorer filters): a date (midnight
 * UTC) or a date-time `YYYY-MM-DDTHH:MM[:SS[.fff]]` with `Z`, an offset `±HH:MM`, or no offset (UTC,
 * never local time). Impossible dates are refused with the reason.
 */

const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?([Zz]|[+-]\d{2}:\d{2})?)?$/;
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** The canonical form the log stores (`toISOString()`), or why the text is not a time. */
export type ParsedTime = { readonly ok: true; readonly iso: string; readonly ms: number } | { readonly ok: false; readonly why: string };

/** Parses an ISO date or date-time; fractions below a millisecond round up. */
export function parseIsoTime(text: string): ParsedTime {
  const bad = (why: string): ParsedTime => ({ ok: false, why });
  const m = ISO_TIME.exec(text);
  if (!m) return bad('is not an ISO date or time; use e.g. 2026-01-31, 2026-01-31T12:00:00 (UTC), 2026-01-31T12:00:00Z or 2026-01-31T14:00:00+02:00');
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6]].map((p) => Number(p ?? 0)) as [number, number, number, number, number, number];
  if (month < 1 || month > 12) return bad(`has no month ${m[2]}`);
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) {
    const lastDay = new Date(0);
    lastDay.setUTCFullYear(year, month, 0);
    return bad(`is not a date: ${MONTHS[month - 1]} ${year} has ${lastDay.getUTCDate()} days`);
  }
  if (hour > 23 || minute > 59 || second > 59) return bad('is not a time of day (hours 00-23, minutes and seconds 00-59)');
  const fraction = m[7] ?? '';
  const millis = Number(fraction.slice(0, 3).padEnd(3, '0')) + (/[1-9]/.test(fraction.slice(3)) ? 1 : 0);
  let offsetMinutes = 0;
  const offset = m[8];
  if (offset !== undefined && offset.toUpperCase() !== 'Z') {
    const [oh, om] = offset.slice(1).split(':').map(Number) as [number, number];
    if (oh > 23 || om > 59) return bad(`has an impossible offset ${offset} (at most ±23:59)`);
    offsetMinutes = (offset.startsWith('-') ? -1 : 1) * (oh * 60 + om);
  }
  date.setUTCHours(hour, minute - offsetMinutes, second, millis);
  const iso = date.toISOString();
  if (!/^\d{4}-/.test(iso)) return bad('is outside the years 0000-9999 in UTC');
  return { ok: true, iso, ms: date.getTime() };
}
