// Test support: a devchain on random ports in a throw-away data dir, so test files can run in parallel.
// Not a test file itself (no .test.ts), and imported only by tests.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PrivateKeyAccount } from "viem/accounts";
import { BASE } from "../networks.ts";
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

/** An EIP-3009 TransferWithAuthorization for the devchain's USDC, signed by `from` (tests build odd ones on purpose). */
export interface TransferAuthorization {
  from: `0x${string}`;
  to: `0x${string}`;
  value: bigint;
  validAfter: bigint;
  validBefore: bigint;
  nonce: `0x${string}`;
}

export function signTransferAuthorization(from: PrivateKeyAccount, message: TransferAuthorization): Promise<`0x${string}`> {
  return from.signTypedData({
    domain: { name: BASE.usdc.name, version: BASE.usdc.version, chainId: BASE.chainId, verifyingContract: BASE.usdc.address },
    types: {
      TransferWithAuthorization: [
        { name: "from", type: "address" },
        { name: "to", type: "address" },
        { name: "value", type: "uint256" },
        { name: "validAfter", type: "uint256" },
        { name: "validBefore", type: "uint256" },
        { name: "nonce", type: "bytes32" },
      ],
    },
    primaryType: "TransferWithAuthorization",
    message,
  });
}
