// resource.Quantity: fixed-point numbers with SI / binary suffixes ("100m", "1.5Gi", "1e3"),
// parsed, compared and printed in canonical form the way upstream's apimachinery does it.
// Values are held exactly as a count of nano-units (10^-9), rounded up like upstream on parse.

export type QuantityFormat = 'DecimalSI' | 'BinarySI' | 'DecimalExponent';

export interface Quantity {
  /** The value times 10^9, exact. */
  readonly nanos: bigint;
  readonly format: QuantityFormat;
}

export const QUANTITY_FORMAT_ERROR =
  "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
export const QUANTITY_SUFFIX_ERROR = "unable to parse quantity's suffix";

export class QuantityError extends Error {
  override readonly name = 'QuantityError';
}

const BINARY: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const DECIMAL: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const DECIMAL_SUFFIX: Record<number, string> = {
  [-9]: 'n',
  [-6]: 'u',
  [-3]: 'm',
  0: '',
  3: 'k',
  6: 'M',
  9: 'G',
  12: 'T',
  15: 'P',
  18: 'E',
};
const BINARY_SUFFIX = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];

const NANO = 1_000_000_000n;

function pow10(e: number): bigint {
  return 10n ** BigInt(e);
}

/** Divides rounding away from zero (inf.RoundUp), as upstream does when precision is lost. */
function divUp(n: bigint, d: bigint): bigint {
  const q = n / d;
  if (q * d === n) return q;
  return n < 0n ? q - 1n : q + 1n;
}

/** Parses a quantity; throws QuantityError with upstream's message when it is malformed. */
export function parseQuantity(input: string | number): Quantity {
  const text = typeof input === 'number' ? numberText(input) : input.trim();
  if (text.length === 0) throw new QuantityError('quantities must be non-empty');
  const m = /^([+-]?)([0-9]*)(?:\.([0-9]*))?(.*)$/.exec(text);
  if (!m) throw new QuantityError(QUANTITY_FORMAT_ERROR);
  const sign = m[1] === '-' ? -1n : 1n;
  const whole = m[2] ?? '';
  const frac = m[3] ?? '';
  const suffix = m[4] ?? '';
  if (whole.length === 0 && frac.length === 0) throw new QuantityError(QUANTITY_FORMAT_ERROR);
  if (!/^[eEinumkKMGTP]*[-+]?[0-9]*$/.test(suffix)) throw new QuantityError(QUANTITY_FORMAT_ERROR);

  let format: QuantityFormat;
  let base10Exp = 0;
  let base2Exp = 0;
  if (suffix in BINARY) {
    format = 'BinarySI';
    base2Exp = BINARY[suffix] ?? 0;
  } else if (suffix in DECIMAL) {
    format = 'DecimalSI';
    base10Exp = DECIMAL[suffix] ?? 0;
  } else if (/^[eE][-+]?[0-9]+$/.test(suffix)) {
    format = 'DecimalExponent';
    base10Exp = Number.parseInt(suffix.slice(1), 10);
  } else {
    throw new QuantityError(QUANTITY_SUFFIX_ERROR);
  }

  // mantissa * 10^-frac.length * 10^base10Exp * 2^base2Exp, in nanos.
  const mantissa = BigInt((whole || '0') + frac) * sign;
  let numer = mantissa * (1n << BigInt(base2Exp)) * NANO;
  let denom = 1n;
  const e = base10Exp - frac.length;
  if (e >= 0) numer *= pow10(e);
  else denom = pow10(-e);
  return { nanos: divUp(numer, denom), format };
}

function numberText(n: number): string {
  if (!Number.isFinite(n)) throw new QuantityError(QUANTITY_FORMAT_ERROR);
  const s = String(n);
  return s.replace('e+', 'e');
}

export function tryParseQuantity(input: unknown): Quantity | undefined {
  if (typeof input !== 'string' && typeof input !== 'number') return undefined;
  try {
    return parseQuantity(input);
  } catch {
    return undefined;
  }
}

/** The canonical string form, as Quantity.String() prints it. */
export function formatQuantity(q: Quantity): string {
  if (q.nanos === 0n) return '0';
  let format = q.format;
  if (format === 'BinarySI') {
    const oneK = 1024n * NANO;
    if ((q.nanos > -oneK && q.nanos < oneK) || q.nanos % NANO !== 0n) format = 'DecimalSI';
  }
  if (format === 'BinarySI') {
    let value = q.nanos / NANO;
    let exp = 0;
    while (exp < 6 && value % 1024n === 0n) {
      value /= 1024n;
      exp++;
    }
    return `${value}${BINARY_SUFFIX[exp]}`;
  }
  let mantissa = q.nanos;
  let exponent = -9;
  while (mantissa % 1000n === 0n) {
    mantissa /= 1000n;
    exponent += 3;
  }
  if (format === 'DecimalExponent') return exponent === 0 ? `${mantissa}` : `${mantissa}e${exponent}`;
  const suffix = DECIMAL_SUFFIX[exponent];
  return suffix === undefined ? `${mantissa}e${exponent}` : `${mantissa}${suffix}`;
}

/** Parses and re-prints; returns the input unchanged when it does not parse. */
export function canonicalQuantity(input: unknown): unknown {
  const q = tryParseQuantity(input);
  return q ? formatQuantity(q) : input;
}

export function compareQuantity(a: Quantity, b: Quantity): -1 | 0 | 1 {
  return a.nanos < b.nanos ? -1 : a.nanos > b.nanos ? 1 : 0;
}
export function addQuantity(a: Quantity, b: Quantity): Quantity {
  return { nanos: a.nanos + b.nanos, format: a.format };
}
export function subQuantity(a: Quantity, b: Quantity): Quantity {
  return { nanos: a.nanos - b.nanos, format: a.format };
}
export function isZeroQuantity(q: Quantity): boolean {
  return q.nanos === 0n;
}
export function signQuantity(q: Quantity): -1 | 0 | 1 {
  return q.nanos < 0n ? -1 : q.nanos > 0n ? 1 : 0;
}
/** Value(): the whole-unit value, rounded up. */
export function quantityValue(q: Quantity): number {
  return Number(divUp(q.nanos, NANO));
}
/** MilliValue(): the value in thousandths, rounded up. */
export function quantityMilliValue(q: Quantity): number {
  return Number(divUp(q.nanos, 1_000_000n));
}
export function quantityFromMilli(milli: number, format: QuantityFormat = 'DecimalSI'): Quantity {
  return { nanos: BigInt(Math.trunc(milli)) * 1_000_000n, format };
}
export function quantityFromValue(value: number, format: QuantityFormat = 'DecimalSI'): Quantity {
  return { nanos: BigInt(Math.trunc(value)) * NANO, format };
}
