// KubeSchedulerConfiguration (kubescheduler.config.k8s.io/v1): parsed from YAML or JSON, decoded
// strictly, validated with field paths, and resolved against the default plugins into the plugin
// lists of each profile.
import { parse as parseYaml } from 'yaml';
import { isPlainObject } from '../api/meta.js';
import type { PluginArgs } from './framework/interfaces.js';
import { DEFAULT_MULTIPOINT, inTreeRegistry, type RegistryEntry } from './framework/registry.js';
import { EXTENSION_POINTS, type ExtensionPoint, type ResolvedProfile } from './framework/runtime.js';

export const SCHEDULER_CONFIG_API_VERSION = 'kubescheduler.config.k8s.io/v1';
export const DEFAULT_SCHEDULER_NAME = 'default-scheduler';

export interface PluginRef {
  name: string;
  weight?: number;
}

export interface PluginSet {
  enabled?: PluginRef[];
  disabled?: Array<{ name: string }>;
}

export type Plugins = Partial<Record<ExtensionPoint | 'multiPoint', PluginSet>>;

export interface PluginConfig {
  name: string;
  args?: PluginArgs;
}

export interface SchedulerProfile {
  schedulerName?: string;
  percentageOfNodesToScore?: number;
  plugins?: Plugins;
  pluginConfig?: PluginConfig[];
}

export interface SchedulerConfiguration {
  apiVersion?: string;
  kind?: string;
  /** 0 (default) means upstream's adaptive percentage. */
  percentageOfNodesToScore?: number;
  podInitialBackoffSeconds?: number;
  podMaxBackoffSeconds?: number;
  parallelism?: number;
  profiles?: SchedulerProfile[];
  leaderElection?: { leaderElect?: boolean; resourceNamespace?: string; resourceName?: string };
}

export class SchedulerConfigError extends Error {
  override readonly name = 'SchedulerConfigError';
  constructor(readonly errors: string[]) {
    super(errors.length === 1 ? errors[0]! : `[${errors.join(', ')}]`);
  }
}

const TOP_KEYS = new Set([
  'apiVersion',
  'kind',
  'percentageOfNodesToScore',
  'podInitialBackoffSeconds',
  'podMaxBackoffSeconds',
  'parallelism',
  'profiles',
  'leaderElection',
  'clientConnection',
  'enableProfiling',
  'enableContentionProfiling',
  'delayCacheUntilActive',
  'extenders',
  'healthzBindAddress',
  'metricsBindAddress',
]);
const PROFILE_KEYS = new Set(['schedulerName', 'percentageOfNodesToScore', 'plugins', 'pluginConfig']);
const PLUGIN_SET_KEYS = new Set(['enabled', 'disabled']);

function isInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v);
}

/** Parses a configuration document (YAML or JSON) and validates it; throws SchedulerConfigError. */
export function parseSchedulerConfig(text: string): SchedulerConfiguration {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new SchedulerConfigError([
      `couldn't decode scheduler configuration: ${err instanceof Error ? err.message : String(err)}`,
    ]);
  }
  if (!isPlainObject(doc)) throw new SchedulerConfigError(['scheduler configuration must be an object']);
  const cfg = doc as SchedulerConfiguration;
  validateSchedulerConfig(cfg);
  return cfg;
}

/** Validates a configuration object; throws SchedulerConfigError listing every problem. */
export function validateSchedulerConfig(
  cfg: SchedulerConfiguration,
  registry: ReadonlyMap<string, RegistryEntry> = inTreeRegistry(),
): void {
  const errs: string[] = [];
  const raw = cfg as Record<string, unknown>;
  for (const k of Object.keys(raw)) if (!TOP_KEYS.has(k)) errs.push(`unknown field "${k}"`);
  if (cfg.apiVersion !== undefined && cfg.apiVersion !== SCHEDULER_CONFIG_API_VERSION) {
    errs.push(
      `apiVersion: Unsupported value: "${String(cfg.apiVersion)}": supported values: "${SCHEDULER_CONFIG_API_VERSION}"`,
    );
  }
  if (cfg.kind !== undefined && cfg.kind !== 'KubeSchedulerConfiguration') {
    errs.push(
      `kind: Unsupported value: "${String(cfg.kind)}": supported values: "KubeSchedulerConfiguration"`,
    );
  }
  const pct = (path: string, v: unknown): void => {
    if (v === undefined) return;
    if (!isInt(v) || v < 0 || v > 100)
      errs.push(`${path}: Invalid value: ${JSON.stringify(v)}: not in valid range [0-100]`);
  };
  pct('percentageOfNodesToScore', cfg.percentageOfNodesToScore);
  if (
    cfg.podInitialBackoffSeconds !== undefined &&
    (!isInt(cfg.podInitialBackoffSeconds) || cfg.podInitialBackoffSeconds <= 0)
  ) {
    errs.push(
      `podInitialBackoffSeconds: Invalid value: ${JSON.stringify(cfg.podInitialBackoffSeconds)}: must be greater than 0`,
    );
  }
  if (cfg.podMaxBackoffSeconds !== undefined) {
    if (!isInt(cfg.podMaxBackoffSeconds) || cfg.podMaxBackoffSeconds <= 0) {
      errs.push(
        `podMaxBackoffSeconds: Invalid value: ${JSON.stringify(cfg.podMaxBackoffSeconds)}: must be greater than 0`,
      );
    } else if (cfg.podMaxBackoffSeconds < (cfg.podInitialBackoffSeconds ?? 1)) {
      errs.push(
        `podMaxBackoffSeconds: Invalid value: ${cfg.podMaxBackoffSeconds}: must be greater than or equal to PodInitialBackoffSeconds`,
      );
    }
  }
  if (cfg.profiles !== undefined && !Array.isArray(cfg.profiles))
    errs.push('profiles: Invalid value: must be a list');
  const profiles = Array.isArray(cfg.profiles) ? cfg.profiles : [];
  if (cfg.profiles !== undefined && profiles.length === 0) errs.push('profiles: Required value');
  const seen = new Set<string>();
  let queueSort: string | undefined;
  profiles.forEach((p, i) => {
    const path = `profiles[${i}]`;
    if (!isPlainObject(p)) {
      errs.push(`${path}: Invalid value: must be an object`);
      return;
    }
    for (const k of Object.keys(p)) if (!PROFILE_KEYS.has(k)) errs.push(`${path}: unknown field "${k}"`);
    const name = p.schedulerName ?? DEFAULT_SCHEDULER_NAME;
    if (typeof name !== 'string' || name === '') errs.push(`${path}.schedulerName: Required value`);
    else if (seen.has(name)) errs.push(`${path}.schedulerName: Duplicate value: "${name}"`);
    else seen.add(name);
    pct(`${path}.percentageOfNodesToScore`, p.percentageOfNodesToScore);
    const plugins = p.plugins ?? {};
    if (!isPlainObject(plugins)) errs.push(`${path}.plugins: Invalid value: must be an object`);
    else {
      for (const [point, set] of Object.entries(plugins)) {
        const pp = `${path}.plugins.${point}`;
        if (point !== 'multiPoint' && !(EXTENSION_POINTS as readonly string[]).includes(point)) {
          errs.push(`${path}.plugins: unknown field "${point}"`);
          continue;
        }
        if (!isPlainObject(set)) {
          errs.push(`${pp}: Invalid value: must be an object`);
          continue;
        }
        for (const k of Object.keys(set))
          if (!PLUGIN_SET_KEYS.has(k)) errs.push(`${pp}: unknown field "${k}"`);
        const ps = set as PluginSet;
        (ps.enabled ?? []).forEach((e, j) => {
          const ep = `${pp}.enabled[${j}]`;
          if (!e || typeof e.name !== 'string' || e.name === '')
            return void errs.push(`${ep}.name: Required value`);
          const entry = registry.get(e.name);
          if (!entry) return void errs.push(`${ep}.name: Invalid value: "${e.name}": plugin does not exist`);
          if (point !== 'multiPoint' && !entry.points.includes(point as ExtensionPoint)) {
            errs.push(`${ep}.name: Invalid value: "${e.name}": plugin does not extend ${point}`);
          }
          if (e.weight !== undefined && (!isInt(e.weight) || e.weight < 0 || e.weight > 100)) {
            errs.push(
              `${ep}.weight: Invalid value: ${JSON.stringify(e.weight)}: must be in the range [0, 100]`,
            );
          }
        });
        (ps.disabled ?? []).forEach((d, j) => {
          if (!d || typeof d.name !== 'string' || d.name === '')
            errs.push(`${pp}.disabled[${j}].name: Required value`);
        });
      }
    }
    const pcNames = new Set<string>();
    ((p as SchedulerProfile).pluginConfig ?? []).forEach((pc, j) => {
      const pp = `${path}.pluginConfig[${j}]`;
      if (!pc || typeof pc.name !== 'string') return void errs.push(`${pp}.name: Required value`);
      if (pcNames.has(pc.name)) errs.push(`${pp}: Duplicate value: "${pc.name}"`);
      pcNames.add(pc.name);
      if (!registry.has(pc.name)) errs.push(`${pp}.name: Invalid value: "${pc.name}": plugin does not exist`);
      validateArgs(`${pp}.args`, pc.name, pc.args ?? {}, errs);
    });
    if (typeof name === 'string' && errs.length === 0) {
      try {
        const resolved = resolveProfile(p, cfg.percentageOfNodesToScore, registry);
        const qs = resolved.plugins.queueSort.map((x) => x.name).join(',');
        if (queueSort === undefined) queueSort = qs;
        else if (queueSort !== qs)
          errs.push(
            `${path}.plugins.queueSort: Invalid value: "${qs}": queueSort must be the same for all profiles`,
          );
        if (resolved.plugins.queueSort.length !== 1)
          errs.push(`${path}.plugins.queueSort: Invalid value: exactly one queue sort plugin is required`);
        if (resolved.plugins.bind.length === 0)
          errs.push(`${path}.plugins.bind: Invalid value: at least one bind plugin is required`);
      } catch (err) {
        errs.push(`${path}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  });
  if (errs.length > 0) throw new SchedulerConfigError(errs);
}

function validateArgs(path: string, name: string, args: PluginArgs, errs: string[]): void {
  if (!isPlainObject(args)) return void errs.push(`${path}: Invalid value: must be an object`);
  switch (name) {
    case 'NodeResourcesFit': {
      const ss = args.scoringStrategy;
      if (ss === undefined) break;
      if (!isPlainObject(ss))
        return void errs.push(`${path}.scoringStrategy: Invalid value: must be an object`);
      if (ss.type !== undefined && ss.type !== 'LeastAllocated' && ss.type !== 'MostAllocated') {
        errs.push(
          `${path}.scoringStrategy.type: Unsupported value: ${JSON.stringify(ss.type)}: supported values: "LeastAllocated", "MostAllocated"`,
        );
      }
      const resources = Array.isArray(ss.resources) ? ss.resources : [];
      resources.forEach((r, i) => {
        if (!isPlainObject(r) || typeof r.name !== 'string')
          return void errs.push(`${path}.scoringStrategy.resources[${i}].name: Required value`);
        if (!isInt(r.weight) || r.weight < 1 || r.weight > 100) {
          errs.push(
            `${path}.scoringStrategy.resources[${i}].weight: Invalid value: ${JSON.stringify(r.weight)}: resource weight of ${r.name} not in valid range [1, 100]`,
          );
        }
      });
      break;
    }
    case 'InterPodAffinity': {
      const w = args.hardPodAffinityWeight;
      if (w !== undefined && (!isInt(w) || w < 0 || w > 100)) {
        errs.push(
          `${path}.hardPodAffinityWeight: Invalid value: ${JSON.stringify(w)}: not in valid range [0, 100]`,
        );
      }
      break;
    }
    case 'PodTopologySpread': {
      const t = args.defaultingType;
      if (t !== undefined && t !== 'System' && t !== 'List') {
        errs.push(
          `${path}.defaultingType: Unsupported value: ${JSON.stringify(t)}: supported values: "List", "System"`,
        );
      }
      if (t === 'System' && Array.isArray(args.defaultConstraints) && args.defaultConstraints.length > 0) {
        errs.push(
          `${path}.defaultConstraints: Invalid value: when .defaultingType is "System", .defaultConstraints must be empty`,
        );
      }
      (Array.isArray(args.defaultConstraints) ? args.defaultConstraints : []).forEach((c, i) => {
        const cp = `${path}.defaultConstraints[${i}]`;
        if (!isPlainObject(c)) return void errs.push(`${cp}: Invalid value: must be an object`);
        if (!isInt(c.maxSkew) || c.maxSkew <= 0)
          errs.push(`${cp}.maxSkew: Invalid value: ${JSON.stringify(c.maxSkew)}: must be greater than zero`);
        if (typeof c.topologyKey !== 'string' || c.topologyKey === '')
          errs.push(`${cp}.topologyKey: Required value: can not be empty`);
        if (c.whenUnsatisfiable !== 'DoNotSchedule' && c.whenUnsatisfiable !== 'ScheduleAnyway') {
          errs.push(
            `${cp}.whenUnsatisfiable: Unsupported value: "${String(c.whenUnsatisfiable)}": supported values: "DoNotSchedule", "ScheduleAnyway"`,
          );
        }
        if (c.labelSelector !== undefined)
          errs.push(
            `${cp}.labelSelector: Forbidden: constraint must not define a selector, as they deduced for each pod`,
          );
      });
      break;
    }
    case 'DefaultPreemption': {
      const p = args.minCandidateNodesPercentage;
      const a = args.minCandidateNodesAbsolute;
      if (p !== undefined && (!isInt(p) || p < 0 || p > 100)) {
        errs.push(
          `${path}.minCandidateNodesPercentage: Invalid value: ${JSON.stringify(p)}: not in valid range [0, 100]`,
        );
      }
      if (a !== undefined && (!isInt(a) || a < 0))
        errs.push(
          `${path}.minCandidateNodesAbsolute: Invalid value: ${JSON.stringify(a)}: not in valid range [0, inf)`,
        );
      if (p === 0 && a === 0)
        errs.push(
          `${path}: Invalid value: both minCandidateNodesPercentage and minCandidateNodesAbsolute cannot be zero`,
        );
      break;
    }
    default:
      break;
  }
}

/** Merges a custom plugin set into a base list, as upstream: disabled (or "*") removes, enabled replaces in place or appends. */
function mergeSet(base: PluginRef[], custom: PluginSet | undefined): PluginRef[] {
  if (!custom) return base;
  const disabled = new Set((custom.disabled ?? []).map((d) => d.name));
  const enabled = new Map((custom.enabled ?? []).map((e) => [e.name, e]));
  const replaced = new Set<string>();
  const out: PluginRef[] = [];
  for (const p of base) {
    if (disabled.has('*') || disabled.has(p.name)) continue;
    const c = enabled.get(p.name);
    if (c) {
      out.push(c);
      replaced.add(p.name);
    } else out.push(p);
  }
  for (const e of custom.enabled ?? []) if (!replaced.has(e.name)) out.push(e);
  return out;
}

/** The plugin lists of one profile: MultiPoint defaults merged with the custom config, then expanded per point. */
export function resolveProfile(
  profile: SchedulerProfile,
  globalPercentage: number | undefined,
  registry: ReadonlyMap<string, RegistryEntry> = inTreeRegistry(),
): ResolvedProfile {
  const plugins = profile.plugins ?? {};
  const multi = mergeSet([...DEFAULT_MULTIPOINT], plugins.multiPoint);
  const out = {} as ResolvedProfile['plugins'];
  for (const point of EXTENSION_POINTS) {
    const set = plugins[point];
    const disabled = new Set((set?.disabled ?? []).map((d) => d.name));
    const list: Array<{ name: string; weight: number }> = [];
    const present = new Set<string>();
    for (const e of set?.enabled ?? []) {
      if (present.has(e.name)) continue;
      present.add(e.name);
      const fromMulti = multi.find((m) => m.name === e.name);
      list.push({ name: e.name, weight: e.weight ?? fromMulti?.weight ?? 1 });
    }
    for (const m of multi) {
      if (present.has(m.name) || disabled.has('*') || disabled.has(m.name)) continue;
      const entry = registry.get(m.name);
      if (!entry) throw new Error(`plugin "${m.name}" does not exist`);
      if (!entry.points.includes(point)) continue;
      present.add(m.name);
      list.push({ name: m.name, weight: m.weight ?? 1 });
    }
    out[point] = list;
  }
  const pluginConfig = new Map<string, PluginArgs>();
  for (const pc of profile.pluginConfig ?? []) pluginConfig.set(pc.name, pc.args ?? {});
  const pct = profile.percentageOfNodesToScore ?? globalPercentage;
  return {
    schedulerName: profile.schedulerName ?? DEFAULT_SCHEDULER_NAME,
    plugins: out,
    pluginConfig,
    ...(pct !== undefined ? { percentageOfNodesToScore: pct } : {}),
  };
}

/** Every profile of a configuration (the default profile when none is given). */
export function resolveProfiles(
  cfg: SchedulerConfiguration = {},
  registry: ReadonlyMap<string, RegistryEntry> = inTreeRegistry(),
): ResolvedProfile[] {
  const profiles =
    cfg.profiles && cfg.profiles.length > 0 ? cfg.profiles : [{ schedulerName: DEFAULT_SCHEDULER_NAME }];
  return profiles.map((p) => resolveProfile(p, cfg.percentageOfNodesToScore, registry));
}
