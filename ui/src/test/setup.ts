// Vitest setup: unmount rendered components after each test (globals are off, so RTL cannot do it
// itself), and write dates and numbers in one known locale whatever the machine's language.
import { cleanup } from "@testing-library/react";
import { afterEach, beforeEach } from "vitest";
import { setLocale } from "../format";

beforeEach(() => setLocale("en-GB"));
afterEach(() => cleanup());
