// Facilitator reason codes in words a caller can act on.

const EXPLANATIONS: [RegExp, string][] = [
  [/value_mismatch|amount_mismatch|authorization_value$/, "the amount signed is not the quoted price"],
  [/recipient_mismatch|payto|destination/, "the payment goes to another address than this server's payTo"],
  [/valid_before|expired/, "the authorization has expired; sign a new one"],
  [/valid_after|not_yet_valid/, "the authorization is not valid yet"],
  [/signature/, "the signature does not match the payer"],
  [/insufficient_funds|insufficient_balance/, "the payer's USDC balance is too low"],
  [/nonce_already_used|duplicate_settlement|already/, "this authorization was already used"],
  [/network_mismatch/, "the payment is for another network"],
  [/asset|mint/, "the payment is not in this network's USDC"],
  [/simulation_failed|transaction_failed/, "the transfer would fail on chain (balance, nonce or signature)"],
];

export function explainReason(reason: string | undefined, message?: string): string {
  if (!reason) return message ?? "the facilitator gave no reason";
  const found = EXPLANATIONS.find(([pattern]) => pattern.test(reason));
  if (!found) return message ? `${message} (${reason})` : reason;
  // The facilitator's own words name the cause where our category is broad (a failed Solana simulation).
  return message && message !== reason ? `${found[1]}: ${message} (${reason})` : `${found[1]} (${reason})`;
}
