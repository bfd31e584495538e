// Structured logs: one JSON line per event on stderr, with a level and a component.
// K8TS_LOG_LEVEL=debug|info|warn|error (default info); K8TS_LOG_FORMAT=text for humans.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(component: string): Logger;
}

function parseLevel(value: string | undefined): LogLevel {
  return value === 'debug' || value === 'warn' || value === 'error' ? value : 'info';
}

let minimumLevel: LogLevel = parseLevel(process.env.K8TS_LOG_LEVEL);
let sink: (line: string) => void = (line) => process.stderr.write(line + '\n');

export function setLogLevel(level: LogLevel): void {
  minimumLevel = level;
}

/** The level below which lines are dropped (another thread's loggers are set to the same). */
export function currentLogLevel(): LogLevel {
  return minimumLevel;
}

/** Writes an already formatted line (one logged in another thread of this process). */
export function writeLogLine(line: string): void {
  sink(line);
}

/** Redirect log lines (tests capture them). */
export function setLogSink(fn: (line: string) => void): void {
  sink = fn;
}

function errorFields(fields: LogFields | undefined): LogFields | undefined {
  if (!fields) return fields;
  const out: LogFields = {};
  for (const [k, v] of Object.entries(fields)) out[k] = v instanceof Error ? v.message : v;
  return out;
}

export function createLogger(component: string): Logger {
  const emit = (level: LogLevel, msg: string, fields?: LogFields): void => {
    if (ORDER[level] < ORDER[minimumLevel]) return;
    const f = errorFields(fields);
    if (process.env.K8TS_LOG_FORMAT === 'text') {
      const extra = f
        ? ' ' +
          Object.entries(f)
            .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
            .join(' ')
        : '';
      sink(`${new Date().toISOString()} ${level.toUpperCase()} [${component}] ${msg}${extra}`);
    } else {
      sink(JSON.stringify({ ts: new Date().toISOString(), level, component, msg, ...f }));
    }
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (sub) => createLogger(`${component}.${sub}`),
  };
}
