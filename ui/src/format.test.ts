// Tests for display formatting.
import { describe, expect, it } from "vitest";
import { formatApiError, formatClock, formatLanguage, formatPatientCount, formatRange, formatSex } from "./format";

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
});
