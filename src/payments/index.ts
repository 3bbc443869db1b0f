// x402 payments: protocol codecs, requirements, payment identity, the
// facilitator adapters, the rail, the ledger and the sign-in of polls.
export { devchainAccess, devchainX402Facilitator, inProcessFacilitator } from "./facilitator/in-process.ts";
export { chainX402Facilitator, localFacilitator, type ChainAccess } from "./facilitator/chain.ts";
export { readFacilitatorKeys, rpcChainAccess, watchGas } from "./facilitator/self.ts";
export { connectFacilitator } from "./facilitator/connect.ts";
export { remoteFacilitator } from "./facilitator/remote.ts";
export type { AnyRequirements, Facilitator, SettleResponse } from "./facilitator/types.ts";
export { readExactPayment, type ExactPayment } from "./exact-payload.ts";
export { paymentIdentity, type PaymentIdentity } from "./identity.ts";
export { replayRefusal } from "./replay-proof.ts";
export { INTERRUPTED, openLedger, type Ledger, type PaidEdit, type PaidEditStatus, type StaleSettlement, type StoredError } from "./ledger/ledger.ts";
export type { SiwxNonce, SiwxNonces } from "./ledger/siwx-nonces.ts";
export { encodeHeader, HEADERS, MalformedPaymentError, readPaymentHeader, type ClientPayment } from "./protocol.ts";
export { createPaymentRail, SettleTimeout, type PaymentRail } from "./rail.ts";
export { explainReason } from "./reasons.ts";
export { evmSettlementProbe, svmSettlementProbe, type OnChain, type SettlementProbe } from "./settlement-probe.ts";
export type { PaymentTerms, ResourceOffer } from "./requirements.ts";
export {
  advertised,
  createSiwxGate,
  DEFAULT_SIWX_TTL_SECONDS,
  signInRequired,
  SIWX_EXTENSION,
  SIWX_HEADER,
  type SiwxChallenge,
  type SiwxGate,
  type SiwxJob,
} from "./siwx.ts";
