// Amounts in their asset's own units: the page's mirror of datalicense/protocol/amounts.py, run on the shared
// vectors (tests/vectors/amounts.json) in Chromium. The exact value units / 10**decimals (BigInt arithmetic: no
// rounding, no exponent), the fraction's trailing zeros dropped, then a space and the symbol (none if empty).

export class AmountError extends Error {}

export const MAX_DECIMALS = 255; // ERC-20 decimals() is a uint8

/** formatAmount('1500000', 6, 'USDT') === '1.5 USDT'; units: a BigInt or a string of digits (as the API sends). */
export function formatAmount(units, decimals, symbol) {
  const v = BigInt(units);
  if (v < 0n) throw new AmountError(`amount ${v} is negative`);
  if (!Number.isInteger(decimals) || decimals < 0 || decimals > MAX_DECIMALS) {
    throw new AmountError(`an asset has 0 to ${MAX_DECIMALS} decimals, not ${decimals}`);
  }
  const base = 10n ** BigInt(decimals);
  const frac = decimals ? (v % base).toString().padStart(decimals, '0').replace(/0+$/, '') : '';
  const text = frac ? `${v / base}.${frac}` : `${v / base}`;
  return symbol ? `${text} ${symbol}` : text;
}

/** An amount of an asset the API describes: {decimals, symbol} (an answer's `assets[address]`). */
export function amountOf(units, asset) {
  if (!asset) throw new AmountError('the server did not say which asset this amount is in');
  return formatAmount(units, asset.decimals, asset.symbol);
}
