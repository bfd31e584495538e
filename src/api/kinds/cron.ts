// Standard cron schedules as robfig/cron's ParseStandard reads them: five fields
// (minute hour day-of-month month day-of-week) or a descriptor such as @hourly, with
// the same error sentences, plus the next activation time for the CronJob controller.

export interface CronSchedule {
  readonly minute: ReadonlySet<number>;
  readonly hour: ReadonlySet<number>;
  readonly dom: ReadonlySet<number>;
  readonly month: ReadonlySet<number>;
  readonly dow: ReadonlySet<number>;
  /** Whether day-of-month / day-of-week were '*' or '?' (cron's "either matches" rule). */
  readonly domStar: boolean;
  readonly dowStar: boolean;
  /** For @every: a fixed interval in milliseconds. */
  readonly everyMs?: number;
  /** The CRON_TZ= / TZ= prefix, if any. */
  readonly timeZone?: string;
}

export class CronError extends Error {
  override readonly name = 'CronError';
}

interface Bounds {
  readonly min: number;
  readonly max: number;
  readonly names?: Readonly<Record<string, number>>;
}

const MONTHS: Record<string, number> = {
  jan: 1,
  feb: 2,
  mar: 3,
  apr: 4,
  may: 5,
  jun: 6,
  jul: 7,
  aug: 8,
  sep: 9,
  oct: 10,
  nov: 11,
  dec: 12,
};
const DAYS: Record<string, number> = { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 };
const BOUNDS: Bounds[] = [
  { min: 0, max: 59 },
  { min: 0, max: 23 },
  { min: 1, max: 31 },
  { min: 1, max: 12, names: MONTHS },
  { min: 0, max: 6, names: DAYS },
];

const DESCRIPTORS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

function parseInt10(s: string): number {
  if (!/^[+-]?[0-9]+$/.test(s))
    throw new CronError(`failed to parse int from ${s}: strconv.Atoi: parsing "${s}": invalid syntax`);
  return Number.parseInt(s, 10);
}

function parseValue(s: string, b: Bounds): number {
  const named = b.names?.[s.toLowerCase()];
  if (named !== undefined) return named;
  return parseInt10(s);
}

function parseRange(expr: string, b: Bounds, out: Set<number>): boolean {
  const slash = expr.split('/');
  const hyphen = (slash[0] ?? '').split('-');
  const singleDigit = hyphen.length === 1;
  let start: number;
  let end: number;
  let star = false;
  if (hyphen[0] === '*' || hyphen[0] === '?') {
    start = b.min;
    end = b.max;
    star = true;
  } else {
    start = parseValue(hyphen[0] ?? '', b);
    if (hyphen.length === 1) end = start;
    else if (hyphen.length === 2) end = parseValue(hyphen[1] ?? '', b);
    else throw new CronError(`too many hyphens: ${expr}`);
  }
  let step = 1;
  if (slash.length === 2) {
    step = parseInt10(slash[1] ?? '');
    if (singleDigit) end = b.max;
    if (step > 1) star = false;
  } else if (slash.length > 2) {
    throw new CronError(`too many slashes: ${expr}`);
  }
  if (start < b.min) throw new CronError(`beginning of range (${start}) below minimum (${b.min}): ${expr}`);
  if (end > b.max) throw new CronError(`end of range (${end}) above maximum (${b.max}): ${expr}`);
  if (start > end) throw new CronError(`beginning of range (${start}) beyond end of range (${end}): ${expr}`);
  if (step === 0) throw new CronError(`step of range should be a positive number: ${expr}`);
  for (let v = start; v <= end; v += step) out.add(v);
  return star;
}

function parseField(field: string, b: Bounds): { set: Set<number>; star: boolean } {
  const set = new Set<number>();
  let star = false;
  for (const part of field.split(',')) if (parseRange(part, b, set)) star = true;
  return { set, star };
}

function parseDurationMs(s: string): number {
  const re = /([0-9]*\.?[0-9]+)(ns|us|µs|ms|s|m|h)/g;
  const units: Record<string, number> = {
    ns: 1e-6,
    us: 1e-3,
    µs: 1e-3,
    ms: 1,
    s: 1000,
    m: 60000,
    h: 3600000,
  };
  let total = 0;
  let consumed = 0;
  for (const m of s.matchAll(re)) {
    total += Number.parseFloat(m[1] ?? '0') * (units[m[2] ?? 's'] ?? 0);
    consumed += m[0].length;
  }
  if (consumed !== s.length || s.length === 0)
    throw new CronError(`failed to parse duration ${s}: time: invalid duration "${s}"`);
  return total;
}

/** Parses a standard cron spec; throws CronError with robfig/cron's messages. */
export function parseCron(spec: string): CronSchedule {
  let text = spec.trim();
  if (text.length === 0) throw new CronError('empty spec string');
  let timeZone: string | undefined;
  if (text.startsWith('TZ=') || text.startsWith('CRON_TZ=')) {
    const sp = text.indexOf(' ');
    timeZone = text.slice(text.indexOf('=') + 1, sp < 0 ? undefined : sp);
    text = sp < 0 ? '' : text.slice(sp).trim();
  }
  if (text.startsWith('@')) {
    if (text.startsWith('@every ')) {
      const ms = parseDurationMs(text.slice(7).trim());
      const all = (b: Bounds): Set<number> => {
        const s = new Set<number>();
        for (let v = b.min; v <= b.max; v++) s.add(v);
        return s;
      };
      const [mi, h, d, mo, w] = BOUNDS as [Bounds, Bounds, Bounds, Bounds, Bounds];
      return {
        minute: all(mi),
        hour: all(h),
        dom: all(d),
        month: all(mo),
        dow: all(w),
        domStar: true,
        dowStar: true,
        everyMs: ms,
        timeZone,
      };
    }
    const d = DESCRIPTORS[text];
    if (!d) throw new CronError(`unrecognized descriptor: ${text}`);
    text = d;
  }
  const fields = text.split(/\s+/).filter((f) => f.length > 0);
  if (fields.length !== 5)
    throw new CronError(`expected exactly 5 fields, found ${fields.length}: [${fields.join(' ')}]`);
  const parsed = fields.map((f, i) => parseField(f, BOUNDS[i] as Bounds));
  const [mi, h, d, mo, w] = parsed as [
    (typeof parsed)[0],
    (typeof parsed)[0],
    (typeof parsed)[0],
    (typeof parsed)[0],
    (typeof parsed)[0],
  ];
  return {
    minute: mi.set,
    hour: h.set,
    dom: d.set,
    month: mo.set,
    dow: w.set,
    domStar: d.star,
    dowStar: w.star,
    timeZone,
  };
}

/** The offset of a time zone from UTC at an instant, in milliseconds (wall clock minus UTC). */
export function zoneOffsetMs(timeZone: string, at: Date): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(at);
  const get = (type: string): number => Number(parts.find((p) => p.type === type)?.value ?? '0');
  const wall = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return wall - Math.floor(at.getTime() / 1000) * 1000;
}

/** The search on wall-clock time, held in a Date read through its UTC fields. */
function nextWallClock(s: CronSchedule, afterWall: Date): Date | undefined {
  const t = new Date(afterWall.getTime());
  t.setUTCSeconds(0, 0);
  t.setUTCMinutes(t.getUTCMinutes() + 1);
  const limit = afterWall.getTime() + 5 * 366 * 24 * 3600 * 1000;
  while (t.getTime() <= limit) {
    if (!s.month.has(t.getUTCMonth() + 1)) {
      t.setUTCMonth(t.getUTCMonth() + 1, 1);
      t.setUTCHours(0, 0, 0, 0);
      continue;
    }
    const domMatch = s.dom.has(t.getUTCDate());
    const dowMatch = s.dow.has(t.getUTCDay());
    const dayOk = s.domStar || s.dowStar ? domMatch && dowMatch : domMatch || dowMatch;
    if (!dayOk) {
      t.setUTCDate(t.getUTCDate() + 1);
      t.setUTCHours(0, 0, 0, 0);
      continue;
    }
    if (!s.hour.has(t.getUTCHours())) {
      t.setUTCHours(t.getUTCHours() + 1, 0, 0, 0);
      continue;
    }
    if (!s.minute.has(t.getUTCMinutes())) {
      t.setUTCMinutes(t.getUTCMinutes() + 1, 0, 0);
      continue;
    }
    return t;
  }
  return undefined;
}

/**
 * The first activation strictly after `after`, reading the schedule in `timeZone` (the CronJob's
 * spec.timeZone), else the schedule's own TZ= prefix, else UTC.
 */
export function nextCronTime(s: CronSchedule, after: Date, timeZone?: string): Date | undefined {
  if (s.everyMs !== undefined) {
    const step = Math.max(1000, Math.round(s.everyMs / 1000) * 1000);
    return new Date(Math.floor(after.getTime() / 1000) * 1000 + step);
  }
  const tz = timeZone ?? s.timeZone ?? 'UTC';
  if (tz === 'UTC' || tz === 'Etc/UTC') return nextWallClock(s, after);
  let from = after;
  for (let guard = 0; guard < 4; guard++) {
    const wall = nextWallClock(s, new Date(from.getTime() + zoneOffsetMs(tz, from)));
    if (!wall) return undefined;
    // Map the wall-clock time back to an instant; a second pass settles offsets that change at it.
    let instant = new Date(
      wall.getTime() - zoneOffsetMs(tz, new Date(wall.getTime() - zoneOffsetMs(tz, wall))),
    );
    instant = new Date(wall.getTime() - zoneOffsetMs(tz, instant));
    if (instant.getTime() > after.getTime()) return instant;
    from = new Date(from.getTime() + 60_000);
  }
  return undefined;
}
