// Exact USD amounts for quotes: decimal strings in, bigint USDC atomic units
// (6 decimals) inside, decimal strings out. No floating point anywhere.

export const USDC_DECIMALS = 6;
const ATOMIC_PER_USD = 10n ** BigInt(USDC_DECIMALS);

/** A non-negative rational number parsed from a decimal string. */
export interface Decimal {
  numerator: bigint;
  denominator: bigint;
}

const DECIMAL = /^(\d+)(?:\.(\d+))?$/;

export function parseDecimal(text: string): Decimal {
  const match = DECIMAL.exec(text.trim());
  if (!match) throw new Error(`"${text}" is not a non-negative decimal number like 0.05`);
  const fraction = match[2] ?? "";
  return {
    numerator: BigInt(match[1] + fraction),
    denominator: 10n ** BigInt(fraction.length),
  };
}

/**
 * Upstream cost x (1 + margin), rounded UP to a whole USDC atomic unit so the
 * operator never sells below cost.
 */
export function priceWithMargin(cost: string, margin: string): bigint {
  const c = parseDecimal(cost);
  const m = parseDecimal(margin);
  const numerator = c.numerator * (m.denominator + m.numerator) * ATOMIC_PER_USD;
  const denominator = c.denominator * m.denominator;
  return (numerator + denominator - 1n) / denominator;
}

/** 21000n -> "0.021"; 1000000n -> "1". */
export function formatUsd(atomic: bigint): string {
  const whole = atomic / ATOMIC_PER_USD;
  const fraction = (atomic % ATOMIC_PER_USD).toString().padStart(USDC_DECIMALS, "0").replace(/0+$/, "");
  return fraction ? `${whole}.${fraction}` : `${whole}`;
}

/** "0.021" -> 21000n; more than 6 decimals is an error, never silently rounded. */
export function parseUsd(text: string): bigint {
  const d = parseDecimal(text);
  const scaled = d.numerator * ATOMIC_PER_USD;
  if (scaled % d.denominator !== 0n) throw new Error(`${text} has more than ${USDC_DECIMALS} decimals`);
  return scaled / d.denominator;
}
