// The running proxy's shared state, handed to each route.

import type { Wallet } from "../wallet-file.ts";
import type { ProxySettings } from "./settings.ts";

export interface ProxyContext {
  settings: ProxySettings;
  wallet: Wallet;
  /** http://localhost:<port>, known once the server listens. */
  publicUrl(): string;
}
