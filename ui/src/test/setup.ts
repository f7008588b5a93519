// Vitest setup: unmount rendered components after each test (globals are off, so RTL cannot do it itself).
import { cleanup } from "@testing-library/react";
import { afterEach } from "vitest";

afterEach(() => cleanup());
