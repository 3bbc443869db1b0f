// Test support: a devchain on random ports in a throw-away data dir, so test files can run in parallel.
// Not a test file itself (no .test.ts), and imported only by tests.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startDevchain, type Devchain, type DevchainOptions } from "./index.ts";

export interface TestDevchain {
  devchain: Devchain;
  dataDir: string;
  /** Closes the devchain and deletes the data dir. */
  dispose(): Promise<void>;
}

export async function startTestDevchain(options: DevchainOptions = {}): Promise<TestDevchain> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), "retouch-devchain-")));
  const devchain = await startDevchain({ evmPort: 0, solanaPort: 0, ...options, dataDir });
  return {
    devchain,
    dataDir,
    async dispose() {
      await devchain.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
