// Display formatting shared by the screens: counts, ranges, error lines, patient fields.
import type { UiError } from "./backend";

// ---- The user's locale: one source for every date and number on every screen ----

function webviewLocale(): string {
  const language = typeof navigator === "undefined" ? undefined : navigator.language;
  try {
    return language ? Intl.getCanonicalLocales(language)[0] ?? "en-US" : "en-US";
  } catch {
    return "en-US";
  }
}

let currentLocale = webviewLocale();
let numberFormat = new Intl.NumberFormat(currentLocale);
let dayFormat = new Intl.DateTimeFormat(currentLocale, { day: "numeric", month: "short", year: "numeric", timeZone: "UTC" });
let dayMonthFormat = new Intl.DateTimeFormat(currentLocale, { day: "numeric", month: "short", timeZone: "UTC" });
let dateTimeFormat = new Intl.DateTimeFormat(currentLocale, { day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit" });
let shortDateTimeFormat = new Intl.DateTimeFormat(currentLocale, { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
let clockFormat = new Intl.DateTimeFormat(currentLocale, { hour: "2-digit", minute: "2-digit" });
let localDayMonthFormat = new Intl.DateTimeFormat(currentLocale, { day: "numeric", month: "short" });

/** The locale dates and numbers are written in: the webview's language unless set. */
export function locale(): string {
  return currentLocale;
}

/** Writes dates and numbers in `tag` from now on (tests; a user's choice of language). */
export function setLocale(tag: string): void {
  currentLocale = Intl.getCanonicalLocales(tag)[0] ?? "en-US";
  numberFormat = new Intl.NumberFormat(currentLocale);
  dayFormat = new Intl.DateTimeFormat(currentLocale, { day: "numeric", month: "short", year: "numeric", timeZone: "UTC" });
  dayMonthFormat = new Intl.DateTimeFormat(currentLocale, { day: "numeric", month: "short", timeZone: "UTC" });
  dateTimeFormat = new Intl.DateTimeFormat(currentLocale, { day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit" });
  shortDateTimeFormat = new Intl.DateTimeFormat(currentLocale, { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
  clockFormat = new Intl.DateTimeFormat(currentLocale, { hour: "2-digit", minute: "2-digit" });
  localDayMonthFormat = new Intl.DateTimeFormat(currentLocale, { day: "numeric", month: "short" });
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/**
 * A calendar day ("2026-10-19", or an instant's date) with the month in words, in the user's
 * locale: "19 Oct 2026" (en-GB), "Oct 19, 2026" (en-US), "19 oct 2026" (es). Never "10/12",
 * which readers on either side of the Atlantic read differently. Unparseable: shown as given.
 */
export function formatDay(day: string): string {
  const at = DAY.test(day) ? Date.parse(`${day}T00:00:00Z`) : Date.parse(day);
  if (Number.isNaN(at)) return day;
  // A plain day is a calendar date, not an instant: written in UTC so no time zone moves it.
  return DAY.test(day) ? dayFormat.format(at) : new Intl.DateTimeFormat(currentLocale, { day: "numeric", month: "short", year: "numeric" }).format(at);
}

/** A day without its year ("19 Oct"), for ranges and charts whose year is said elsewhere. */
export function formatDayMonth(day: string): string {
  const at = DAY.test(day) ? Date.parse(`${day}T00:00:00Z`) : Date.parse(day);
  return Number.isNaN(at) ? day : dayMonthFormat.format(at);
}

/** An instant as local day and time ("19 Oct 2026, 14:05"). Unparseable: shown as given. */
export function formatDateTime(instant: string): string {
  const at = Date.parse(instant);
  return Number.isNaN(at) ? instant : dateTimeFormat.format(at);
}

/** An instant as local day and time without the year ("3 Jun, 17:00"), for deadlines. */
export function formatShortDateTime(instant: string): string {
  const at = Date.parse(instant);
  return Number.isNaN(at) ? instant : shortDateTimeFormat.format(at);
}

/**
 * What a date picker holds, in words beside it: the native picker writes days in the
 * system's order (month first on an en-US system), this line says which day it is.
 */
export function pickedDay(value: string): string {
  return value ? `(${formatDay(value)})` : "";
}

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

const channelLabels: Record<string, string> = {
  phone: "Phone",
  sms: "SMS",
  portal: "Portal",
  email: "E-mail",
  letter: "Letter",
  home_visit: "Home visit",
  peer_contact: "Peer contact",
};

/** A contact channel's name as people write it ("sms" → "SMS"); unknown ones as given. */
export function formatChannel(channel: string): string {
  return channelLabels[channel] ?? channel;
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

/**
 * An RFC 3339 instant as local wall-clock time: "14:05" on the same day as `now`, else with
 * the day ("29 Jun 14:05"). Anything unparseable is shown as given.
 */
export function formatClock(instant: string, now: Date = new Date()): string {
  const at = new Date(instant);
  if (Number.isNaN(at.getTime())) return instant;
  const time = clockFormat.format(at);
  return at.toDateString() === now.toDateString() ? time : `${localDayMonthFormat.format(at)} ${time}`;
}
