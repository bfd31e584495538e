// Flag parsing for every subcommand: node's parseArgs in strict mode, with errors turned into
// one clear line that names the subcommand and the flag.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export type FlagSpec = NonNullable<ParseArgsConfig['options']>;

export interface ParsedFlags {
  values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  positionals: string[];
}

export function parseFlags(
  command: string,
  argv: string[],
  options: FlagSpec,
  allowPositionals = false,
): ParsedFlags {
  try {
    const { values, positionals } = parseArgs({ args: argv, options, strict: true, allowPositionals });
    return { values, positionals };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new UsageError(`${command}: ${message.replace(/\. To specify a positional.*$/s, '')}`);
  }
}

export function stringFlag(flags: ParsedFlags, name: string, fallback: string): string {
  const v = flags.values[name];
  return typeof v === 'string' ? v : fallback;
}

export function optionalStringFlag(flags: ParsedFlags, name: string): string | undefined {
  const v = flags.values[name];
  return typeof v === 'string' ? v : undefined;
}

export function listFlag(flags: ParsedFlags, name: string): string[] {
  const v = flags.values[name];
  const raw = Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
  return raw
    .flatMap((x) => String(x).split(','))
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

export function boolFlag(flags: ParsedFlags, name: string): boolean {
  return flags.values[name] === true;
}

/** A TCP port from a flag: an integer in 1..65535 (0 allowed when `allowZero`, meaning "any free port"). */
export function portFlag(flags: ParsedFlags, name: string, fallback: number, allowZero = false): number {
  const raw = optionalStringFlag(flags, name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n > 65535 || (n === 0 && !allowZero))
    throw new UsageError(
      `--${name}: invalid port ${JSON.stringify(raw)}: must be an integer from ${allowZero ? 0 : 1} to 65535`,
    );
  return n;
}

/** Where k8ts keeps its state unless --data-dir says otherwise (as k3s's /var/lib/rancher/k3s). */
export const DEFAULT_DATA_DIR = '~/.k8ts';

/** A leading ~ is the home directory, also in --flag=~/x, which no shell expands. */
export function expandHome(path: string): string {
  return path === '~' || path.startsWith('~/') ? homedir() + path.slice(1) : path;
}

/** --data-dir, absolute, home expanded (default ~/.k8ts). */
export function dataDirFlag(flags: ParsedFlags): string {
  return resolve(expandHome(optionalStringFlag(flags, 'data-dir') ?? DEFAULT_DATA_DIR));
}

/** Which kubeconfig to use: --kubeconfig, else $KUBECONFIG, else <data-dir>/kubeconfig.yaml. */
export function kubeconfigPath(flags: ParsedFlags, env: NodeJS.ProcessEnv = process.env): string {
  const explicit = optionalStringFlag(flags, 'kubeconfig');
  if (explicit !== undefined) return explicit;
  const dataDir = optionalStringFlag(flags, 'data-dir');
  // KUBECONFIG may list several files (kubectl merges them); the first one that exists is used.
  const fromEnv = dataDir === undefined ? (env.KUBECONFIG ?? '').split(':').filter(Boolean) : [];
  const found = fromEnv.find((f) => existsSync(f));
  if (found !== undefined) return found;
  if (fromEnv[0] !== undefined) return fromEnv[0];
  return resolve(dataDirFlag(flags), 'kubeconfig.yaml');
}
