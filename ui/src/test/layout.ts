// jsdom lays nothing out, so every element measures 0×0 and a virtualised list renders no rows.
// Tests of virtualised screens give elements a viewport-like size.
import { afterAll, beforeAll } from "vitest";

export function withLayout(width = 1200, height = 640) {
  const saved = {
    clientHeight: Object.getOwnPropertyDescriptor(HTMLElement.prototype, "clientHeight"),
    clientWidth: Object.getOwnPropertyDescriptor(HTMLElement.prototype, "clientWidth"),
  };
  beforeAll(() => {
    Object.defineProperty(HTMLElement.prototype, "clientHeight", { configurable: true, get: () => height });
    Object.defineProperty(HTMLElement.prototype, "clientWidth", { configurable: true, get: () => width });
  });
  afterAll(() => {
    for (const [name, descriptor] of Object.entries(saved)) {
      if (descriptor) Object.defineProperty(HTMLElement.prototype, name, descriptor);
      else delete (HTMLElement.prototype as unknown as Record<string, unknown>)[name];
    }
  });
}
