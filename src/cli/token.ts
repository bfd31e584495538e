// `k8ts token create|list|delete|generate`: bootstrap tokens as `kubeadm token` manages them, as
// Secrets of type bootstrap.kubernetes.io/token in kube-system written through the API with the
// admin kubeconfig. Output and error texts follow kubeadm's.
import { existsSync } from 'node:fs';
import { StatusError } from '../api/errors.js';
import type { Secret } from '../api/generated/types.js';
import type { KubeObject } from '../api/meta.js';
import { loadKubeconfig } from '../client/kubeconfig.js';
import { RestClient } from '../client/rest.js';
import { SECRETS } from '../client/typed-refs.js';
import {
  BOOTSTRAP_TOKEN_SECRET_PREFIX,
  BOOTSTRAP_TOKEN_SECRET_TYPE,
  DEFAULT_NODE_TOKEN_GROUP,
  bootstrapTokenSecret,
  generateBootstrapToken,
  parseBootstrapToken,
  type BootstrapTokenSecretOptions,
} from '../pki/tokens.js';
import { K8TS_VERSION } from '../version.js';
import {
  listFlag,
  optionalStringFlag,
  parseFlags,
  UsageError,
  type FlagSpec,
  type ParsedFlags,
  kubeconfigPath,
} from './flags.js';
import type { Command } from './main.js';

type SecretObj = Secret & KubeObject;

const TOKEN_NAMESPACE = 'kube-system';
/** Upstream's patterns, quoted in its errors. */
const TOKEN_PATTERN_TEXT = String.raw`\A([a-z0-9]{6})\.([a-z0-9]{16})\z`;
const TOKEN_ID_PATTERN_TEXT = String.raw`\A([a-z0-9]{6})\z`;
const TOKEN_ID = /^[a-z0-9]{6}$/;
const GROUP_PATTERN = /^system:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]$/;
const GROUP_PATTERN_TEXT = String.raw`\Asystem:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]\z`;
const KNOWN_USAGES = ['signing', 'authentication'] as const;
const DEFAULT_TTL_MS = 24 * 3600_000;
/** kubeadm's API calls give up after 10 s. */
const REQUEST_TIMEOUT_MS = 10_000;

const CONNECTION_FLAGS: FlagSpec = {
  kubeconfig: { type: 'string' },
  'data-dir': { type: 'string' },
};

const CREATE_FLAGS: FlagSpec = {
  ...CONNECTION_FLAGS,
  ttl: { type: 'string' },
  description: { type: 'string' },
  usages: { type: 'string', multiple: true },
  groups: { type: 'string', multiple: true },
};

const USAGE = [
  'k8ts token create [--ttl DURATION] [--description TEXT] [--usages USAGES] [--groups GROUPS] [--kubeconfig FILE]',
  '       k8ts token list [--kubeconfig FILE]',
  '       k8ts token delete ID|TOKEN [ID|TOKEN...] [--kubeconfig FILE]',
  '       k8ts token generate',
  '',
  'Bootstrap tokens (<id>.<secret>) that let `k8ts agent --token` join a node, kept as Secrets',
  'bootstrap-token-<id> of type bootstrap.kubernetes.io/token in kube-system, as kubeadm keeps them.',
  'Expired tokens are refused for joining and deleted by the tokencleaner controller.',
  '',
  'Flags:',
  '  --ttl DURATION        time before the token expires, e.g. 30m, 2h45m (default 24h; 0 = never)',
  '  --description TEXT    a human-friendly note stored with the token',
  '  --usages USAGES       comma-separated: signing (cluster-info), authentication (default both)',
  `  --groups GROUPS       extra groups the token authenticates as (default ${DEFAULT_NODE_TOKEN_GROUP})`,
  '  --kubeconfig FILE     admin kubeconfig (default: $KUBECONFIG, else <data-dir>/kubeconfig.yaml)',
  '  --data-dir DIR        the server data dir whose kubeconfig.yaml to use (default ~/.k8ts)',
].join('\n');

// --- durations, as Go's time.ParseDuration and apimachinery's ShortHumanDuration --------------

const UNIT_MS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3600_000,
};

/** Go's time.ParseDuration, in milliseconds; throws with Go's message. */
export function parseGoDuration(text: string): number {
  const invalid = (): Error => new Error(`time: invalid duration ${JSON.stringify(text)}`);
  let s = text;
  let sign = 1;
  if (s.startsWith('-') || s.startsWith('+')) {
    if (s.startsWith('-')) sign = -1;
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') throw invalid();
  let total = 0;
  while (s !== '') {
    const num = /^(\d*)(?:\.(\d*))?/.exec(s);
    const whole = num?.[1] ?? '';
    const frac = num?.[2];
    if (whole === '' && (frac === undefined || frac === '')) throw invalid();
    s = s.slice(num?.[0].length ?? 0);
    const unit = /^[^\d.]*/.exec(s)?.[0] ?? '';
    if (unit === '') throw new Error(`time: missing unit in duration ${JSON.stringify(text)}`);
    const perUnit = UNIT_MS[unit];
    if (perUnit === undefined)
      throw new Error(`time: unknown unit ${JSON.stringify(unit)} in duration ${JSON.stringify(text)}`);
    s = s.slice(unit.length);
    total += Number(`${whole || '0'}.${frac ?? '0'}`) * perUnit;
  }
  return sign * total;
}

/** apimachinery's duration.ShortHumanDuration, which `kubeadm token list` prints as TTL. */
export function shortHumanDuration(ms: number): string {
  if (ms < -1000) return '<invalid>';
  if (ms < 0) return '0s';
  const seconds = Math.floor(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours}h`;
  if (hours < 24 * 365) return `${Math.floor(hours / 24)}d`;
  return `${Math.floor(hours / 24 / 365)}y`;
}

// --- flags ------------------------------------------------------------------------------------

/** The Secret options `token create` writes, from its flags (at `now`). */
export function createOptions(flags: ParsedFlags, now: number): BootstrapTokenSecretOptions {
  const ttlText = optionalStringFlag(flags, 'ttl');
  let ttlMs = DEFAULT_TTL_MS;
  if (ttlText !== undefined) {
    try {
      ttlMs = parseGoDuration(ttlText);
    } catch (err) {
      throw new UsageError(
        `token create: invalid argument ${JSON.stringify(ttlText)} for "--ttl" flag: ${(err as Error).message}`,
      );
    }
  }
  const usages = flags.values['usages'] === undefined ? [...KNOWN_USAGES] : listFlag(flags, 'usages');
  const unknown = usages.filter((u) => !(KNOWN_USAGES as readonly string[]).includes(u));
  if (unknown.length > 0)
    throw new UsageError(
      `token create: invalid bootstrap token usage string: ${unknown.join(',')}, valid usage options: ${KNOWN_USAGES.join(',')}`,
    );
  const groups =
    flags.values['groups'] === undefined ? [DEFAULT_NODE_TOKEN_GROUP] : listFlag(flags, 'groups');
  for (const g of groups)
    if (!GROUP_PATTERN.test(g))
      throw new UsageError(
        `token create: bootstrap group ${JSON.stringify(g)} is invalid (must match ${GROUP_PATTERN_TEXT})`,
      );
  if (groups.length > 0 && !usages.includes('authentication'))
    throw new UsageError(
      'token create: token groups cannot be specified unless --usages includes "authentication"',
    );
  const description = optionalStringFlag(flags, 'description');
  return {
    ...(description ? { description } : {}),
    // Whole seconds, as RFC3339 has them: a negative TTL gives an already expired token, as kubeadm.
    ...(ttlMs !== 0 ? { expiration: new Date(Math.floor((now + ttlMs) / 1000) * 1000) } : {}),
    extraGroups: groups,
    usageAuthentication: usages.includes('authentication'),
    usageSigning: usages.includes('signing'),
  };
}

function connect(flags: ParsedFlags): RestClient {
  const file = kubeconfigPath(flags);
  if (!existsSync(file))
    throw new Error(`failed to load admin kubeconfig: open ${file}: no such file or directory`);
  return new RestClient(loadKubeconfig(file), `k8ts-token/v${K8TS_VERSION}`);
}

// --- errors, worded as client-go's ---------------------------------------------------------------

/** A failed request as client-go words it: `Post "URL": dial tcp HOST:PORT: connect: connection refused`. */
export function requestErrorText(err: unknown, method: string, url: string): string {
  if (!(err instanceof Error)) return String(err);
  // An answer from the server: its Status message, as client-go returns it.
  if (err instanceof StatusError) return err.message;
  const e = err as NodeJS.ErrnoException & { address?: string; port?: number; hostname?: string };
  const target = e.address !== undefined && e.port !== undefined ? `${e.address}:${e.port}` : '';
  const verb = method[0] + method.slice(1).toLowerCase();
  const prefix = `${verb} ${JSON.stringify(url)}`;
  switch (e.code) {
    case 'ECONNREFUSED':
      return `${prefix}: dial tcp ${target}: connect: connection refused`;
    case 'EHOSTUNREACH':
      return `${prefix}: dial tcp ${target}: connect: no route to host`;
    case 'ENOTFOUND':
      return `${prefix}: dial tcp: lookup ${e.hostname ?? ''}: no such host`;
    case 'ETIMEDOUT':
      return `${prefix}: dial tcp ${target}: i/o timeout`;
    case 'ABORT_ERR':
    case undefined:
      if (e.name === 'TimeoutError' || e.name === 'AbortError')
        return `${prefix}: context deadline exceeded (Client.Timeout exceeded while awaiting headers)`;
      return `${prefix}: ${e.message}`;
    default:
      return `${prefix}: ${e.message}`;
  }
}

const secretsUrl = (client: RestClient, name?: string): string =>
  `${client.config.server}/api/v1/namespaces/${TOKEN_NAMESPACE}/secrets${name ? `/${name}` : ''}`;

// --- the subcommands ---------------------------------------------------------------------------

async function createToken(argv: string[]): Promise<number> {
  const flags = parseFlags('token create', argv, CREATE_FLAGS);
  const options = createOptions(flags, Date.now());
  const token = generateBootstrapToken();
  const client = connect(flags);
  const name = BOOTSTRAP_TOKEN_SECRET_PREFIX + token.id;
  try {
    await client.create(SECRETS, TOKEN_NAMESPACE, bootstrapTokenSecret(token, options), {
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (err) {
    throw new Error(
      `failed to create or update bootstrap token with name ${name}: unable to create Secret: ${requestErrorText(err, 'POST', secretsUrl(client))}`,
      { cause: err },
    );
  } finally {
    client.close();
  }
  process.stdout.write(`${token.token}\n`);
  return 0;
}

export interface TokenRow {
  token: string;
  expires?: number;
  usages: string[];
  description: string;
  groups: string[];
}

const decode = (v: string | undefined): string | undefined =>
  v === undefined ? undefined : Buffer.from(v, 'base64').toString('utf8');

/** A bootstrap token Secret as `kubeadm token list` reads it; an error text for a malformed one. */
export function tokenRow(secret: SecretObj): TokenRow | string {
  const data = secret.data ?? {};
  const id = decode(data['token-id']);
  const tokenSecret = decode(data['token-secret']);
  const name = secret.metadata.name ?? '';
  if (!id || !tokenSecret || !parseBootstrapToken(`${id}.${tokenSecret}`))
    return `bootstrap Token Secret has invalid token-id or token-secret data (Secret ${JSON.stringify(name)})`;
  if (name !== BOOTSTRAP_TOKEN_SECRET_PREFIX + id)
    return `token id ${JSON.stringify(id)} does not match the Secret name ${JSON.stringify(name)}`;
  const row: TokenRow = {
    token: `${id}.${tokenSecret}`,
    usages: Object.keys(data)
      .filter((k) => k.startsWith('usage-bootstrap-') && decode(data[k]) === 'true')
      .map((k) => k.slice('usage-bootstrap-'.length))
      .sort(),
    description: decode(data['description']) ?? '',
    groups: (decode(data['auth-extra-groups']) ?? '').split(',').filter(Boolean),
  };
  const expiration = decode(data['expiration']);
  if (expiration !== undefined) {
    const at = Date.parse(expiration);
    if (Number.isNaN(at)) return `can't parse expiration time of bootstrap token ${JSON.stringify(name)}`;
    row.expires = at;
  }
  return row;
}

const rfc3339 = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** The table `kubeadm token list` prints (its fixed column widths, then tab-aligned with 3 spaces). */
export function formatTokenTable(rows: readonly TokenRow[], now: number): string {
  const header = ['TOKEN', 'TTL', 'EXPIRES', 'USAGES', 'DESCRIPTION', 'EXTRA GROUPS'];
  const cells = rows.map((r) => [
    r.token,
    (r.expires === undefined ? '<forever>' : shortHumanDuration(r.expires - now)).padEnd(9),
    r.expires === undefined ? '<never>' : rfc3339(r.expires),
    (r.usages.join(',') || '<none>').padEnd(22),
    (r.description || '<none>').padEnd(56),
    r.groups.join(',') || '<none>',
  ]);
  const all = [header, ...cells];
  const widths = header.map((_, i) => Math.max(10, ...all.map((c) => (c[i] ?? '').length + 3)));
  return all
    .map((c) =>
      c
        .map((cell, i) => (i === c.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
        .join('')
        .trimEnd(),
    )
    .map((l) => `${l}\n`)
    .join('');
}

async function listTokens(argv: string[]): Promise<number> {
  const flags = parseFlags('token list', argv, CONNECTION_FLAGS);
  const client = connect(flags);
  let secrets: SecretObj[];
  try {
    const list = await client.list<SecretObj>(
      SECRETS,
      TOKEN_NAMESPACE,
      {},
      {
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      },
    );
    secrets = list.items.filter((s) => s.type === BOOTSTRAP_TOKEN_SECRET_TYPE);
  } catch (err) {
    throw new Error(`failed to list bootstrap tokens: ${requestErrorText(err, 'GET', secretsUrl(client))}`, {
      cause: err,
    });
  } finally {
    client.close();
  }
  const rows: TokenRow[] = [];
  for (const s of secrets) {
    const row = tokenRow(s);
    if (typeof row === 'string') process.stderr.write(`${row}\n`);
    else rows.push(row);
  }
  if (rows.length > 0) process.stdout.write(formatTokenTable(rows, Date.now()));
  return 0;
}

/** The token id an argument of `token delete` names, or a UsageError in kubeadm's words. */
export function tokenIdOf(arg: string): string {
  if (TOKEN_ID.test(arg)) return arg;
  const parsed = parseBootstrapToken(arg);
  if (!parsed)
    throw new UsageError(
      `token delete: given token didn't match pattern ${JSON.stringify(TOKEN_PATTERN_TEXT)} or ${JSON.stringify(TOKEN_ID_PATTERN_TEXT)}`,
    );
  return parsed.id;
}

async function deleteTokens(argv: string[]): Promise<number> {
  const flags = parseFlags('token delete', argv, CONNECTION_FLAGS, true);
  if (flags.positionals.length === 0)
    throw new UsageError(
      `token delete: missing subcommand; 'token delete' is missing token of form ${JSON.stringify(TOKEN_ID_PATTERN_TEXT)}`,
    );
  const ids = flags.positionals.map(tokenIdOf);
  const client = connect(flags);
  try {
    for (const id of ids) {
      const name = BOOTSTRAP_TOKEN_SECRET_PREFIX + id;
      try {
        await client.delete(
          SECRETS,
          TOKEN_NAMESPACE,
          name,
          {},
          { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) },
        );
      } catch (err) {
        throw new Error(
          `failed to delete bootstrap token ${JSON.stringify(id)}: ${requestErrorText(err, 'DELETE', secretsUrl(client, name))}`,
          { cause: err },
        );
      }
      process.stdout.write(`bootstrap token ${JSON.stringify(id)} deleted\n`);
    }
  } finally {
    client.close();
  }
  return 0;
}

function generateToken(argv: string[]): Promise<number> {
  parseFlags('token generate', argv, {});
  process.stdout.write(`${generateBootstrapToken().token}\n`);
  return Promise.resolve(0);
}

const SUBCOMMANDS: Readonly<Record<string, (argv: string[]) => Promise<number>>> = {
  create: createToken,
  list: listTokens,
  delete: deleteTokens,
  generate: generateToken,
};

export const tokenCommand: Command = {
  name: 'token',
  summary: 'Create, list and delete bootstrap tokens for joining nodes (as kubeadm token)',
  usage: USAGE,
  run: (argv) => {
    const [sub, ...rest] = argv;
    const run = sub === undefined ? undefined : SUBCOMMANDS[sub];
    if (!run)
      throw new UsageError(
        sub === undefined
          ? 'token: missing subcommand (create, list, delete or generate)'
          : `token: unknown subcommand ${JSON.stringify(sub)} (create, list, delete or generate)`,
      );
    return run(rest);
  },
};
