import { defineConfig } from "vitest/config";

// The AWS SDK warns on Node 20 about releases after January 2027; this project pins its SDK.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

export default defineConfig({
  test: {
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          include: ["{functions,connector,shared,infra}/**/*.test.ts"],
        },
      },
      {
        extends: true,
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts", "test/attacks/**/*.test.ts", "test/faults/**/*.test.ts"],
          globalSetup: ["test/support/global-setup.ts"],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          pool: "forks",
        },
      },
      {
        extends: true,
        test: {
          // After every integration test file: reads back what the whole run wrote (see test/support/leak-ledger.ts).
          name: "leaks",
          include: ["test/leaks/*.test.ts"],
          sequence: { groupOrder: 1 },
          testTimeout: 60_000,
        },
      },
    ],
  },
});
