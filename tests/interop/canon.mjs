// SPDX-License-Identifier: Apache-2.0
// Canonical text form of Parquet values, shared by every reader adapter in
// read_parquet.mjs. Each adapter turns its library's representation into one
// of the raw forms below (a "kind" plus a plain JS value); these functions
// alone produce the text, so two readers print the same line exactly when
// they decoded the same values. The rules are documented in README.md
// ("Canonical row format"); keep the two in step.
//
// Kinds and the raw value each formatter takes:
//   bool  boolean            i32  number (int8..int32, uint8..uint32)
//   i64   bigint (signed)    u64  bigint (any sign; printed as unsigned 64-bit)
//   f32   number (a float32 value, also used for float16)
//   f64   number             str  string
//   bin   Uint8Array (BYTE_ARRAY, FIXED_LEN_BYTE_ARRAY, UUID)
//   date  number (days since 1970-01-01)
//   ts    bigint in the column's unit (ms | us | ns); {unit, utc}
//   time  bigint in the column's unit (ms | us | ns); {unit}
//   dec   bigint unscaled;   {scale}
// Nulls are handled by the caller (printed as null) and never reach here.

const PER_SECOND = { s: 1n, ms: 1000n, us: 1000000n, ns: 1000000000n };

/** Number of fractional-second digits printed for a time unit. */
export function fracDigits(unit) {
  return unit === 'ns' ? 9 : 6;
}

function special(x) {
  if (Number.isNaN(x)) return '"NaN"';
  if (x === Infinity) return '"Infinity"';
  if (x === -Infinity) return '"-Infinity"';
  if (x === 0 && Object.is(x, -0)) return '"-0"';
  return null;
}

export function fmtF64(x) {
  return special(x) ?? String(x);
}

// Shortest decimal that reads back to the same float32, printed the way
// ECMAScript prints the double nearest to it.
export function fmtF32(x) {
  const s = special(x);
  if (s !== null) return s;
  if (Math.fround(x) !== x) throw new Error(`value ${x} is not a float32`);
  for (let p = 1; p <= 9; p++) {
    const d = Number(x.toPrecision(p));
    if (Math.fround(d) === x) return String(d);
  }
  return String(x);
}

export function hex(bytes) {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += bytes[i].toString(16).padStart(2, '0');
  return s;
}

export function fmtBin(bytes) {
  return '"hex:' + hex(bytes) + '"';
}

export function fmtDecimal(unscaled, scale) {
  const neg = unscaled < 0n;
  let digits = (neg ? -unscaled : unscaled).toString();
  if (scale > 0) {
    digits = digits.padStart(scale + 1, '0');
    digits = digits.slice(0, digits.length - scale) + '.' + digits.slice(digits.length - scale);
  }
  return '"' + (neg ? '-' : '') + digits + '"';
}

/** Big-endian two's complement bytes (Parquet FIXED/BYTE_ARRAY decimal) to bigint. */
export function beSigned(bytes) {
  if (bytes.length === 0) return 0n;
  let v = 0n;
  for (let i = 0; i < bytes.length; i++) v = (v << 8n) | BigInt(bytes[i]);
  if (bytes[0] & 0x80) v -= 1n << BigInt(bytes.length * 8);
  return v;
}

function pad(n, w) {
  return String(n).padStart(w, '0');
}

// Proleptic Gregorian civil date from days since 1970-01-01 (H. Hinnant's
// algorithm), exact for any safe-integer day count.
function civil(days) {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  return [y, m, d];
}

function ymd(days) {
  const [y, m, d] = civil(days);
  let ys;
  if (y < 0) ys = '-' + pad(-y, 4);
  else if (y > 9999) ys = '+' + String(y);
  else ys = pad(y, 4);
  return `${ys}-${pad(m, 2)}-${pad(d, 2)}`;
}

export function fmtDate(days) {
  return '"' + ymd(days) + '"';
}

function floorDiv(a, b) {
  const q = a / b;
  return (a % b !== 0n && (a < 0n) !== (b < 0n)) ? q - 1n : q;
}

// value: bigint count of `unit` since the epoch (ts) or since midnight (time).
// Few BigInt operations: this runs for every timestamp cell.
function clock(value, unit) {
  const perSec = PER_SECOND[unit];
  const secBig = floorDiv(value, perSec);
  const sub = Number(value - secBig * perSec);  // 0 <= sub < perSec
  const sec = Number(secBig);                   // |sec| < 2^53 for any int64 count
  const digits = fracDigits(unit);
  const frac = unit === 'ms' ? sub * 1000 : unit === 's' ? 0 : sub;
  const days = Math.floor(sec / 86400);
  const sod = sec - days * 86400;
  const hms = `${pad(Math.floor(sod / 3600), 2)}:${pad(Math.floor(sod / 60) % 60, 2)}:${pad(sod % 60, 2)}`;
  return { days, text: `${hms}.${pad(frac, digits)}` };
}

export function fmtTimestamp(value, unit, utc) {
  const { days, text } = clock(value, unit);
  return `"${ymd(days)}T${text}${utc ? 'Z' : ''}"`;
}

export function fmtTime(value, unit) {
  const { days, text } = clock(value, unit);
  if (days !== 0) throw new Error(`time of day out of range: ${value} ${unit}`);
  return `"${text}"`;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function utf8(bytes) {
  return strictUtf8.decode(bytes);
}

/** Formats one non-null raw value of a column described by {kind, unit, utc, scale}. */
export function fmtValue(col, v) {
  switch (col.kind) {
    case 'bool': return v ? 'true' : 'false';
    case 'i32': return String(v);
    case 'i64': return '"' + BigInt.asIntN(64, v).toString() + '"';
    case 'u64': return '"' + BigInt.asUintN(64, v).toString() + '"';
    case 'f32': return fmtF32(v);
    case 'f64': return fmtF64(v);
    case 'str': return JSON.stringify(v);
    case 'bin': return fmtBin(v);
    case 'date': return fmtDate(v);
    case 'ts': return fmtTimestamp(v, col.unit, col.utc);
    case 'time': return fmtTime(v, col.unit);
    case 'dec': return fmtDecimal(v, col.scale);
    default: throw new Error(`unknown kind ${col.kind}`);
  }
}

/** Builds one output line from column descriptors and formatted values. */
export function rowLine(cols, texts) {
  let s = '{';
  for (let i = 0; i < cols.length; i++) {
    if (i) s += ',';
    s += cols[i].key + ':' + texts[i];
  }
  return s + '}\n';
}
