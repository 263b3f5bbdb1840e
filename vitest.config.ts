import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["**/test/**/*.test.ts"],
    exclude: ["node_modules/**", "dist/**"],
    // Bins, the package's exports and the packed tarball run dist/: build it once, before any test.
    globalSetup: ["test/build-dist.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
