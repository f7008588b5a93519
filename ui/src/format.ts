// Display formatting shared by the screens: counts, ranges, error lines, patient fields.
import type { UiError } from "./backend";

const numberFormat = new Intl.NumberFormat("en-US");

export function formatCount(n: number): string {
  return numberFormat.format(n);
}

/** "1,000 patients"; singular for exactly one. */
export function formatPatientCount(n: number): string {
  return `${formatCount(n)} ${n === 1 ? "patient" : "patients"}`;
}

/** "1–100 of 1,000" for the rows shown starting at `offset`; "0 of 0" when nothing is shown. */
export function formatRange(offset: number, shown: number, total: number): string {
  if (shown === 0) return `0 of ${formatCount(total)}`;
  return `${formatCount(offset + 1)}–${formatCount(offset + shown)} of ${formatCount(total)}`;
}

/** "Cannot open the cache (cache_locked): the file is in use". */
export function formatApiError(context: string, error: UiError): string {
  return `${context} (${error.code}): ${error.message}`;
}

const sexLabels: Record<string, string> = {
  female: "Female",
  male: "Male",
  other: "Other",
  unknown: "Unknown",
};

/** FHIR administrative gender ("female") as a label ("Female"); anything else is shown as given. */
export function formatSex(gender: string): string {
  return sexLabels[gender.toLowerCase()] ?? gender;
}

const languageNames = new Intl.DisplayNames(["en"], { type: "language" });

/** A BCP 47 code ("es", "pt-BR") as an English name; anything else is shown as given. */
export function formatLanguage(language: string): string {
  if (!/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/.test(language)) return language;
  try {
    return languageNames.of(language) ?? language;
  } catch {
    return language;
  }
}

const clockFormat = new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
const dayFormat = new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "short" });

/**
 * An RFC 3339 instant as local wall-clock time: "14:05" on the same day as `now`, else with
 * the day ("29 Jun 14:05"). Anything unparseable is shown as given.
 */
export function formatClock(instant: string, now: Date = new Date()): string {
  const at = new Date(instant);
  if (Number.isNaN(at.getTime())) return instant;
  const time = clockFormat.format(at);
  return at.toDateString() === now.toDateString() ? time : `${dayFormat.format(at)} ${time}`;
}
