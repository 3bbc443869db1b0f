// Mutation testing of the money path (`npm run mutate`): breaks src/payments,
// src/gateway and src/edits one change at a time and runs the tests that reach it.
// @ts-check

// scripts/run-tests.js runs the suite with NODE_ENV=test; the test processes
// Stryker starts inherit this process's environment.
process.env.NODE_ENV ??= "test";

// A full run takes hours on 2 cores, so it can be done a part at a time:
// `MUTATE=payments npm run mutate` (or gateway, edits, a folder inside one of them
// such as payments/ledger, a file such as gateway/fingerprint.ts, a range of a
// file's lines such as gateway/paid-edits.ts:160-230, or several of these
// separated by commas). Each part keeps its own report and incremental file, so a
// later run of it only retests what changed.
const folders = ["payments", "gateway", "edits"];
const parts = process.env.MUTATE?.split(",").map((part) => part.trim());
for (const part of parts ?? []) {
  if (!folders.some((folder) => part === folder || part.startsWith(`${folder}/`))) {
    throw new Error(`MUTATE takes ${folders.join(", ")}, or folders or .ts files inside them (a file with :FIRST-LAST lines), separated by commas (got "${part}")`);
  }
}
const name = parts?.join("+").replaceAll("/", "-").replace(/\.ts\b/g, "").replace(/:(\d+)-(\d+)/g, "-$1-$2") ?? "mutation";
/** A file, with or without a range of its lines (gateway/paid-edits.ts:160-230). */
const isFile = (/** @type {string} */ part) => /\.ts(?::\d+-\d+)?$/.test(part);

/** @type {import("@stryker-mutator/api/core").PartialStrykerOptions} */
export default {
  mutate: [...(parts ?? folders).map((part) => (isFile(part) ? `src/${part}` : `src/${part}/**/*.ts`)), "!src/**/*.test.ts"],
  testRunner: "tap",
  tap: {
    // Every test file that reaches the three folders, or MUTATE_TESTS (globs separated by
    // commas) for a quicker partial run: a mutant that only a left-out file kills then counts
    // as survived, so such a score is a lower bound. Each mutant runs only the files whose
    // process executed it (coverage is per file: the tap runner's unit is a file).
    testFiles: process.env.MUTATE_TESTS?.split(",").map((glob) => glob.trim()) ?? [
      "src/{payments,gateway,edits,providers}/**/*.test.ts",
      "src/config.test.ts",
      // test/ minus the files that reach these folders only through spawned processes
      // (fleet, bin) or not at all (playground, photo-metrics, browser).
      "test/{payments,image2image,postgres,crash,facilitator,polls,x402,limits,client,body,queue,operations,graceful,s3,cors,devchain}*.test.ts",
      "test/upstreams/*.test.ts",
      "test/client/*.test.ts",
    ],
    nodeArgs: ["--import", "tsx", "--test-reporter=tap", "-r", "{{hookFile}}", "{{testFile}}"],
  },
  coverageAnalysis: "perTest",
  checkers: ["typescript"],
  tsconfigFile: "tsconfig.json",
  // 2 cores shared with the rest of the machine; the devchain tests are not CPU-light.
  concurrency: 1,
  // A test file that starts a devchain takes 1-5 s on its own; allow for a busy machine.
  timeoutMS: 20000,
  timeoutFactor: 2,
  // The first run executes every test file once, with coverage: ~10 min alone on 2 cores, over
  // 45 min beside another run (two runs side by side hit a 40 min limit on 2026-12-03).
  dryRunTimeoutMinutes: 120,
  reporters: ["clear-text", "progress", "html", "json"],
  htmlReporter: { fileName: `reports/mutation/${name}.html` },
  jsonReporter: { fileName: `reports/mutation/${name}.json` },
  incremental: true,
  incrementalFile: `reports/stryker-incremental-${name}.json`,
  // dist/ is left out so spawned `retouch` processes run the mutated sources (bin/bundle.js).
  ignorePatterns: [".node24", ".retouch", "bench/out", "reports", "dist", ".stryker-tmp"],
  // Per part, so that two parts can run side by side.
  tempDirName: `.stryker-tmp/${name}`,
};
