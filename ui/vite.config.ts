// Vite build and Vitest configuration for the Careloop desktop UI (served by Tauri from ui/dist).
import { defineConfig } from "vitest/config";
import react from "@vitejs/plugin-react";

export default defineConfig({
  plugins: [react()],
  // Tauri's devUrl points at this port; fail rather than silently move to another.
  server: { port: 5173, strictPort: true },
  clearScreen: false,
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // WebKitGTK on Debian 12 and WebView2 both handle this comfortably.
    target: ["es2021", "safari15"],
    sourcemap: false,
  },
  test: {
    environment: "jsdom",
    setupFiles: ["./src/test/setup.ts"],
    include: ["src/**/*.test.{ts,tsx}"],
  },
});
