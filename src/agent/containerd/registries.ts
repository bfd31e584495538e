// registries.yaml as k3s reads it (mirrors: where to pull a registry's images from; configs: TLS
// and credentials per registry host), turned into containerd's hosts.toml directory
// (config_path) plus the credential entries that still belong in config.toml.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

export interface RegistryTLS {
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  insecureSkipVerify?: boolean;
}

export interface RegistryAuth {
  username?: string;
  password?: string;
  auth?: string;
  identityToken?: string;
}

export interface RegistriesConfig {
  /** Registry host (docker.io, quay.io, or * for all) → endpoints tried in order. */
  mirrors: Record<string, { endpoints: string[] }>;
  /** Registry host (as in an endpoint: 127.0.0.1:5000) → TLS and auth. */
  configs: Record<string, { tls?: RegistryTLS; auth?: RegistryAuth }>;
  /**
   * Never fall back to a registry's own host when its mirrors do not have an image (k3s's
   * --disable-default-registry-endpoint): air-gapped nodes then make no outside request at all.
   */
  disableDefaultEndpoint?: boolean;
}

export class RegistriesError extends Error {
  override readonly name = 'RegistriesError';
}

type Obj = Record<string, unknown>;
function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
function optStr(o: Obj, k: string, where: string): string | undefined {
  const v = o[k];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new RegistriesError(`${where}.${k}: must be a string`);
  return v;
}

/** Parses the text of a registries.yaml; throws RegistriesError naming the bad field. */
export function parseRegistries(text: string): RegistriesConfig {
  const doc: unknown = parse(text) ?? {};
  if (!isObj(doc)) throw new RegistriesError('registries.yaml: expected a mapping');
  const out: RegistriesConfig = { mirrors: {}, configs: {} };
  const mirrors = doc.mirrors ?? {};
  if (!isObj(mirrors)) throw new RegistriesError('mirrors: expected a mapping');
  for (const [host, m] of Object.entries(mirrors)) {
    if (!isObj(m)) throw new RegistriesError(`mirrors.${host}: expected a mapping`);
    const ep = m.endpoint ?? [];
    if (!Array.isArray(ep) || ep.some((e) => typeof e !== 'string'))
      throw new RegistriesError(`mirrors.${host}.endpoint: expected a list of URLs`);
    for (const e of ep as string[]) {
      try {
        const u = new URL(e);
        if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('scheme');
      } catch {
        throw new RegistriesError(`mirrors.${host}.endpoint: ${e} is not an http(s) URL`);
      }
    }
    out.mirrors[host] = { endpoints: ep as string[] };
  }
  const configs = doc.configs ?? {};
  if (!isObj(configs)) throw new RegistriesError('configs: expected a mapping');
  for (const [host, c] of Object.entries(configs)) {
    if (!isObj(c)) throw new RegistriesError(`configs.${host}: expected a mapping`);
    const entry: { tls?: RegistryTLS; auth?: RegistryAuth } = {};
    if (c.tls !== undefined) {
      if (!isObj(c.tls)) throw new RegistriesError(`configs.${host}.tls: expected a mapping`);
      const w = `configs.${host}.tls`;
      const skip = c.tls.insecure_skip_verify;
      if (skip !== undefined && typeof skip !== 'boolean')
        throw new RegistriesError(`${w}.insecure_skip_verify: must be true or false`);
      entry.tls = {
        caFile: optStr(c.tls, 'ca_file', w),
        certFile: optStr(c.tls, 'cert_file', w),
        keyFile: optStr(c.tls, 'key_file', w),
        insecureSkipVerify: skip,
      };
    }
    if (c.auth !== undefined) {
      if (!isObj(c.auth)) throw new RegistriesError(`configs.${host}.auth: expected a mapping`);
      const w = `configs.${host}.auth`;
      entry.auth = {
        username: optStr(c.auth, 'username', w),
        password: optStr(c.auth, 'password', w),
        auth: optStr(c.auth, 'auth', w),
        identityToken: optStr(c.auth, 'identity_token', w),
      };
    }
    out.configs[host] = entry;
  }
  return out;
}

export function loadRegistries(file: string): RegistriesConfig {
  return parseRegistries(readFileSync(file, 'utf8'));
}

const q = (s: string): string => JSON.stringify(s);

function tlsLines(tls: RegistryTLS | undefined): string[] {
  if (!tls) return [];
  const lines: string[] = [];
  if (tls.caFile) lines.push(`  ca = ${q(tls.caFile)}`);
  if (tls.certFile && tls.keyFile) lines.push(`  client = [[${q(tls.certFile)}, ${q(tls.keyFile)}]]`);
  else if (tls.certFile) lines.push(`  client = ${q(tls.certFile)}`);
  if (tls.insecureSkipVerify) lines.push('  skip_verify = true');
  return lines;
}

/** The upstream server containerd falls back to when no mirror has the image. */
function defaultServer(host: string): string {
  return host === 'docker.io' ? 'https://registry-1.docker.io' : `https://${host}`;
}

/** Renders one registry's hosts.toml. */
export function renderHostsToml(host: string, cfg: RegistriesConfig): string {
  const lines: string[] = ['# Generated by k8ts from registries.yaml; rewritten at every agent start.'];
  const mirrorEndpoints = cfg.mirrors[host]?.endpoints ?? [];
  const server =
    cfg.disableDefaultEndpoint && mirrorEndpoints[0]
      ? mirrorEndpoints[0].replace(/\/+$/, '')
      : defaultServer(host);
  if (host !== '*') lines.push(`server = ${q(server)}`);
  const upstream = cfg.configs[host === 'docker.io' ? 'registry-1.docker.io' : host];
  if (host !== '*') lines.push(...tlsLines(upstream?.tls).map((l) => l.trimStart()));
  for (const endpoint of cfg.mirrors[host]?.endpoints ?? []) {
    const u = new URL(endpoint);
    lines.push('', `[host.${q(endpoint.replace(/\/+$/, ''))}]`, '  capabilities = ["pull", "resolve"]');
    lines.push(...tlsLines(cfg.configs[u.host]?.tls));
  }
  return lines.join('\n') + '\n';
}

/**
 * Writes <hostsDir>/<host>/hosts.toml for every mirror and every configured registry (the
 * wildcard mirror "*" becomes _default), replacing whatever an earlier start wrote.
 */
export function writeHostsDir(hostsDir: string, cfg: RegistriesConfig): void {
  rmSync(hostsDir, { recursive: true, force: true });
  mkdirSync(hostsDir, { recursive: true });
  const hosts = new Set<string>([
    ...Object.keys(cfg.mirrors),
    ...Object.keys(cfg.configs).filter((h) => cfg.configs[h]?.tls),
  ]);
  for (const host of hosts) {
    const dir = join(hostsDir, host === '*' ? '_default' : host);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'hosts.toml'), renderHostsToml(host, cfg));
  }
}
