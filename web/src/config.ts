// What the gateway tells its page (a JSON script in the HTML it serves): its
// limits, how it is paid, and where the devchain's Solana RPC is.

export interface PageConfig {
  payments: "devchain" | "remote" | "self" | "off";
  /** CAIP-2 ids of the networks a payment is accepted on. */
  networks: string[];
  maxBodyBytes: number;
  maxImageSide: number;
  minImageSide: number;
  /** Where @x402/svm reads a recent blockhash: the devchain's RPC, or the network's public one. */
  solanaRpcUrl?: string;
}

const FALLBACK: PageConfig = { payments: "off", networks: [], maxBodyBytes: 50 * 1024 * 1024, maxImageSide: 4096, minImageSide: 16 };

export function readConfig(): PageConfig {
  const text = document.getElementById("retouch-config")?.textContent ?? "{}";
  try {
    return { ...FALLBACK, ...(JSON.parse(text) as Partial<PageConfig>) };
  } catch {
    return FALLBACK;
  }
}
