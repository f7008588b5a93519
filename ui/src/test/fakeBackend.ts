// An in-memory Backend for tests: filters and pages a fixed patient list, with spies on every call.
import { vi } from "vitest";
import type { Backend } from "../backend";
import type { PatientPage } from "../bindings/PatientPage";
import type { PatientQuery } from "../bindings/PatientQuery";
import type { PatientRow } from "../bindings/PatientRow";
import type { Progress } from "../bindings/Progress";
import type { StartupReport } from "../bindings/StartupReport";

export function makePatients(count: number): PatientRow[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `p${String(i).padStart(4, "0")}`,
    name: `Patient ${String(i).padStart(4, "0")}`,
    birth_date: "1970-01-01",
    gender: i % 2 === 0 ? "female" : "male",
    preferred_language: i % 3 === 0 ? null : "es",
  }));
}

export function pageOf(patients: PatientRow[], query: PatientQuery): PatientPage {
  const needle = query.text?.toLowerCase() ?? "";
  const matching = patients.filter((p) => p.name.toLowerCase().includes(needle));
  return { total: matching.length, offset: query.offset, rows: matching.slice(query.offset, query.offset + query.limit) };
}

export const report: StartupReport = { created: false, demo_loaded: false, patients: 0, events: 0 };

export type FakeBackend = Backend & {
  openCache: ReturnType<typeof vi.fn<() => Promise<StartupReport>>>;
  listPatients: ReturnType<typeof vi.fn<(query: PatientQuery) => Promise<PatientPage>>>;
  /** Sends a progress event to the current subscribers. */
  emitProgress(progress: Progress): void;
};

export function fakeBackend(patients: PatientRow[] = makePatients(250)): FakeBackend {
  const listeners = new Set<(progress: Progress) => void>();
  return {
    openCache: vi.fn(() => Promise.resolve({ ...report, patients: patients.length })),
    listPatients: vi.fn((query: PatientQuery) => Promise.resolve(pageOf(patients, query))),
    onProgress(callback) {
      listeners.add(callback);
      return () => listeners.delete(callback);
    },
    emitProgress(progress) {
      listeners.forEach((listener) => listener(progress));
    },
  };
}
