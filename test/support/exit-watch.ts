// Loaded into every test file's process by scripts/run-tests.js. When such a process ends early,
// node:test reports only "test failed" for its file, and the tests it had not finished are
// missing from the count. This says how it ended: process.exit() with its caller's stack, or a
// failure code at exit; with neither line, the process was killed by a signal (a native crash).

const exit = process.exit.bind(process);
process.exit = ((code?: number | string | null) => {
  if (code) process.stderr.write(`[test process ${process.pid}] process.exit(${code}) called ${new Error().stack?.replace(/^Error\n/, "")}\n`);
  return exit(code);
}) as typeof process.exit;

process.on("exit", (code) => {
  if (code) process.stderr.write(`[test process ${process.pid}] exiting with code ${code}\n`);
});
