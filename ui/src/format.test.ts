// Tests for display formatting.
import { describe, expect, it } from "vitest";
import {
  formatApiError,
  formatClock,
  formatCount,
  formatDateTime,
  formatDay,
  formatDayMonth,
  formatLanguage,
  formatPatientCount,
  formatRange,
  formatSex,
  pickedDay,
  setLocale,
} from "./format";

describe("format", () => {
  it("formats counts and ranges with en-US separators", () => {
    expect(formatPatientCount(1000)).toBe("1,000 patients");
    expect(formatPatientCount(1)).toBe("1 patient");
    expect(formatPatientCount(0)).toBe("0 patients");
    expect(formatRange(0, 100, 1000)).toBe("1–100 of 1,000");
    expect(formatRange(900, 100, 1000)).toBe("901–1,000 of 1,000");
    expect(formatRange(0, 0, 0)).toBe("0 of 0");
  });

  it("formats errors, sex and language", () => {
    expect(formatApiError("Cannot open the cache", { code: "cache_locked", message: "busy" })).toBe(
      "Cannot open the cache (cache_locked): busy",
    );
    expect(formatSex("female")).toBe("Female");
    expect(formatSex("X")).toBe("X");
    expect(formatLanguage("es")).toBe("Spanish");
    expect(formatLanguage("pt-BR")).toBe("Brazilian Portuguese");
    expect(formatLanguage("English")).toBe("English");
  });

  it("formats an instant as local wall-clock time, with the day when not today", () => {
    const now = new Date(2026, 5, 30, 18, 0);
    expect(formatClock(new Date(2026, 5, 30, 9, 5).toISOString(), now)).toBe("09:05");
    expect(formatClock(new Date(2026, 5, 29, 23, 59).toISOString(), now)).toBe("29 Jun 23:59");
    expect(formatClock("not a time", now)).toBe("not a time");
  });

  it("writes days with the month in words in the user's locale, never a bare 10/12", () => {
    // en-GB: day first.
    expect(formatDay("2026-10-12")).toBe("12 Oct 2026");
    expect(formatDayMonth("2026-10-12")).toBe("12 Oct");
    expect(pickedDay("2026-10-12")).toBe("(12 Oct 2026)");
    expect(pickedDay("")).toBe("");
    // A calendar day is the same day in every time zone (no UTC shift to the 11th).
    expect(formatDay("2026-01-01")).toBe("1 Jan 2026");
    // en-US: month first, still in words; numbers with the same separators.
    setLocale("en-US");
    expect(formatDay("2026-10-12")).toBe("Oct 12, 2026");
    expect(formatDayMonth("2026-10-12")).toBe("Oct 12");
    expect(formatCount(1234567)).toBe("1,234,567");
    // es: Spanish month names and separators.
    setLocale("es");
    expect(formatDay("2026-10-12")).toBe("12 oct 2026");
    expect(formatCount(1234567)).toBe("1.234.567");
    // Not a date: shown as given.
    expect(formatDay("sometime")).toBe("sometime");
    expect(formatDateTime("later")).toBe("later");
  });

  it("writes an instant with its day, year and local time", () => {
    const at = new Date(2026, 9, 12, 14, 5).toISOString();
    expect(formatDateTime(at)).toBe("12 Oct 2026, 14:05");
    setLocale("en-US");
    expect(formatDateTime(at)).toBe("Oct 12, 2026, 02:05 PM");
  });
});
