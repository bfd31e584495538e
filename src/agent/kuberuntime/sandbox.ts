// The CRI PodSandboxConfig for a pod, as kubelet's generatePodSandboxConfig builds it: metadata
// with the attempt, hostname, the log folder, DNS per dnsPolicy, host ports, kubelet's labels
// over the pod's own, the pod's annotations, and the Linux namespaces and security settings.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Pod } from '../../api/generated/types.js';
import type { DNSConfig, NamespaceOption, PodSandboxConfig, PortMapping, Protocol } from '../cri/types.js';
import { ANNOTATION_NODE_NAME, podLabels } from './labels.js';

export interface DnsSettings {
  /** The cluster DNS service addresses (kubelet --cluster-dns); empty: ClusterFirst falls back to the host's. */
  clusterDNS: string[];
  clusterDomain: string;
  /** The host's resolv.conf (default /etc/resolv.conf). */
  resolvConf?: string;
}

export interface ResolvConf {
  servers: string[];
  searches: string[];
  options: string[];
}

export function parseResolvConf(text: string): ResolvConf {
  const out: ResolvConf = { servers: [], searches: [], options: [] };
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    if (!line) continue;
    const [key, ...rest] = line.split(/\s+/);
    if (key === 'nameserver' && rest[0]) out.servers.push(rest[0]);
    else if (key === 'search' || key === 'domain') out.searches = rest;
    else if (key === 'options') out.options.push(...rest);
  }
  return out;
}

function hostResolv(file: string | undefined): ResolvConf {
  try {
    return parseResolvConf(readFileSync(file ?? '/etc/resolv.conf', 'utf8'));
  } catch {
    return { servers: [], searches: [], options: [] };
  }
}

function mergeOptions(base: string[], extra: Array<{ name?: string; value?: string }>): string[] {
  const m = new Map<string, string>();
  for (const o of base) {
    const [k, v] = o.split(':', 2) as [string, string | undefined];
    m.set(k, v === undefined ? k : `${k}:${v}`);
  }
  for (const o of extra) if (o.name) m.set(o.name, o.value !== undefined ? `${o.name}:${o.value}` : o.name);
  return [...m.values()];
}

/** The pod's DNS configuration by dnsPolicy (ClusterFirst, ClusterFirstWithHostNet, Default, None) and spec.dnsConfig. */
export function podDnsConfig(pod: Pod, dns: DnsSettings): DNSConfig {
  const spec = pod.spec ?? { containers: [] };
  let policy = spec.dnsPolicy ?? 'ClusterFirst';
  if (policy === 'ClusterFirst' && spec.hostNetwork) policy = 'Default';
  if (policy === 'ClusterFirstWithHostNet') policy = 'ClusterFirst';
  if ((policy === 'ClusterFirst' && dns.clusterDNS.length === 0) || policy === 'Default') policy = 'Default';
  let base: ResolvConf;
  if (policy === 'None') base = { servers: [], searches: [], options: [] };
  else if (policy === 'Default') base = hostResolv(dns.resolvConf);
  else {
    const host = hostResolv(dns.resolvConf);
    const ns = pod.metadata.namespace ?? 'default';
    const d = dns.clusterDomain;
    base = {
      servers: [...dns.clusterDNS],
      searches: [`${ns}.svc.${d}`, `svc.${d}`, d, ...host.searches],
      options: ['ndots:5'],
    };
  }
  const extra = spec.dnsConfig;
  const servers = [...base.servers, ...(extra?.nameservers ?? [])].slice(0, 3);
  const searches = [...new Set([...base.searches, ...(extra?.searches ?? [])])].slice(0, 32);
  const options = mergeOptions(base.options, extra?.options ?? []);
  return { servers, searches, options };
}

function protocol(p: string | undefined): Protocol {
  return p === 'UDP' ? 'UDP' : p === 'SCTP' ? 'SCTP' : 'TCP';
}

export function portMappings(pod: Pod): PortMapping[] {
  const out: PortMapping[] = [];
  for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])])
    for (const p of c.ports ?? [])
      if (p.hostPort && p.hostPort > 0)
        out.push({
          protocol: protocol(p.protocol),
          containerPort: p.containerPort,
          hostPort: p.hostPort,
          hostIp: p.hostIP ?? '',
        });
  return out;
}

export function namespaceOptions(pod: Pod): NamespaceOption {
  const s = pod.spec;
  return {
    network: s?.hostNetwork ? 'NODE' : 'POD',
    pid: s?.hostPID ? 'NODE' : s?.shareProcessNamespace ? 'POD' : 'CONTAINER',
    ipc: s?.hostIPC ? 'NODE' : 'POD',
  };
}

/** The sandbox's hostname: spec.hostname, else the pod name, cut to a DNS label. */
export function podHostname(pod: Pod): string {
  const name = pod.spec?.hostname || pod.metadata.name || '';
  return name.slice(0, 63).replace(/[-.]+$/, '');
}

export function podLogDirectory(logsDir: string, pod: Pod): string {
  return join(
    logsDir,
    `${pod.metadata.namespace ?? 'default'}_${pod.metadata.name ?? ''}_${pod.metadata.uid ?? ''}`,
  );
}

/** The pod's /etc/hosts as kubelet manages it: localhost entries, the pod's own name, then hostAliases. */
export function etcHostsContent(pod: Pod, podIPs: string[], clusterDomain: string): string {
  const lines = [
    '# Kubernetes-managed hosts file.',
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::0\tip6-localnet',
    'fe00::0\tip6-mcastprefix',
    'fe00::1\tip6-allnodes',
    'fe00::2\tip6-allrouters',
  ];
  const hostname = podHostname(pod);
  const sub = pod.spec?.subdomain;
  for (const ip of podIPs) {
    if (sub)
      lines.push(
        `${ip}\t${hostname}.${sub}.${pod.metadata.namespace ?? 'default'}.svc.${clusterDomain}\t${hostname}`,
      );
    else lines.push(`${ip}\t${hostname}`);
  }
  const aliases = pod.spec?.hostAliases ?? [];
  if (aliases.length) {
    lines.push('', '# Entries added by HostAliases.');
    for (const a of aliases)
      if (a.ip && a.hostnames?.length) lines.push(`${a.ip}\t${a.hostnames.join('\t')}`);
  }
  return lines.join('\n') + '\n';
}

export function sandboxConfig(
  pod: Pod,
  opts: { attempt: number; logsDir: string; dns: DnsSettings; nodeName: string },
): PodSandboxConfig {
  const md = pod.metadata;
  const spec = pod.spec;
  const sc = spec?.securityContext;
  const privileged = [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])].some(
    (c) => c.securityContext?.privileged === true,
  );
  const sysctls: Record<string, string> = {};
  for (const s of sc?.sysctls ?? []) sysctls[s.name] = s.value;
  return {
    metadata: {
      name: md.name ?? '',
      uid: md.uid ?? '',
      namespace: md.namespace ?? 'default',
      attempt: opts.attempt,
    },
    hostname: spec?.hostNetwork ? '' : podHostname(pod),
    logDirectory: podLogDirectory(opts.logsDir, pod),
    dnsConfig: podDnsConfig(pod, opts.dns),
    portMappings: portMappings(pod),
    labels: podLabels(md.namespace ?? 'default', md.name ?? '', md.uid ?? '', md.labels ?? {}),
    annotations: { ...(md.annotations ?? {}), [ANNOTATION_NODE_NAME]: opts.nodeName },
    linux: {
      securityContext: {
        namespaceOptions: namespaceOptions(pod),
        privileged,
        ...(sc?.runAsUser !== undefined ? { runAsUser: { value: sc.runAsUser } } : {}),
        ...(sc?.runAsGroup !== undefined ? { runAsGroup: { value: sc.runAsGroup } } : {}),
        supplementalGroups: [
          ...(sc?.supplementalGroups ?? []),
          ...(sc?.fsGroup !== undefined ? [sc.fsGroup] : []),
        ],
      },
      sysctls,
    },
  };
}
