// The running proxy's shared state, handed to each route.

import type { Wallet } from "../wallet-file.ts";
import type { ProxySettings } from "./settings.ts";
import type { SpendLog } from "./spend-log.ts";

export interface ProxyContext {
  settings: ProxySettings;
  wallet: Wallet;
  spend: SpendLog;
  /** http://localhost:<port>, known once the server listens. */
  publicUrl(): string;
}
