// Relative times as upstream's printers show them (apimachinery's duration.HumanDuration): about
// two significant units, "5s", "3m20s", "2d4h", "<unknown>" when the object has no timestamp and
// "<invalid>" when the timestamp lies more than a second in the future (clock skew).

/** HumanDuration of a span in milliseconds. */
export function humanDuration(ms: number): string {
  // Go converts the duration to whole seconds by truncation toward zero.
  const seconds = Math.trunc(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = Math.trunc(seconds / 60);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = Math.trunc(seconds / 3600);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  const days = Math.trunc(hours / 24);
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${days}d` : `${days}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${days}d`;
  const years = Math.trunc(days / 365);
  if (hours < 24 * 365 * 8) {
    const d = days % 365;
    return d === 0 ? `${years}y` : `${years}y${d}d`;
  }
  return `${years}y`;
}

/**
 * The Age cell of an object (upstream's translateTimestampSince): "<unknown>" for a missing or
 * unparsable timestamp, otherwise the human duration from `timestamp` to `now`.
 */
export function formatAge(timestamp: string | null | undefined, now: Date): string {
  if (timestamp === null || timestamp === undefined || timestamp === '') return '<unknown>';
  const t = Date.parse(timestamp);
  if (Number.isNaN(t)) return '<unknown>';
  return humanDuration(now.getTime() - t);
}
