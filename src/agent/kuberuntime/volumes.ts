// Pod volumes on the node, as kubelet's volume plugins lay them out under the pod's folder:
// emptyDir (a folder, or a tmpfs for medium Memory), hostPath (checked or created per its type),
// persistentVolumeClaim (the bound hostPath or local volume, used in place),
// and the file-projecting kinds (configMap, secret, downwardAPI, projected) written with an
// atomic writer: the files live in a timestamped folder that the "..data" symlink points at, and
// each visible name is a symlink through ..data, so an update swaps everything at once inside a
// folder that stays bind-mounted in the containers.
import { execFile } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { promisify } from 'node:util';
import type { DownwardAPIVolumeFile, KeyToPath, Pod, Volume } from '../../api/generated/types.js';
import { createLogger } from '../../util/log.js';
import {
  bytesOf,
  fieldRefValue,
  hostCapacity,
  resourceFieldValue,
  type PodObjectSource,
  type PodRuntimeFacts,
} from './env.js';

const run = promisify(execFile);
const log = createLogger('kuberuntime.volumes');

export class VolumeError extends Error {
  override readonly name = 'VolumeError';
  constructor(
    readonly volume: string,
    message: string,
  ) {
    super(`MountVolume.SetUp failed for volume "${volume}" : ${message}`);
  }
}

interface FileEntry {
  data: Buffer;
  mode: number;
}
type Payload = Map<string, FileEntry>;

const DEFAULT_MODE = 0o644;

function checkRelative(volume: string, path: string): string {
  const p = normalize(path);
  if (p.startsWith('/') || p === '..' || p.startsWith('../') || p.split('/').some((s) => s.startsWith('..')))
    throw new VolumeError(volume, `invalid path ${JSON.stringify(path)}`);
  return p;
}

function addItems(
  volume: string,
  payload: Payload,
  values: Map<string, Buffer>,
  items: KeyToPath[] | undefined,
  defaultMode: number,
  what: string,
): void {
  if (!items || items.length === 0) {
    for (const [k, v] of values) payload.set(checkRelative(volume, k), { data: v, mode: defaultMode });
    return;
  }
  for (const it of items) {
    const v = values.get(it.key);
    if (v === undefined) throw new VolumeError(volume, `configuration key "${it.key}" not found in ${what}`);
    payload.set(checkRelative(volume, it.path), { data: v, mode: it.mode ?? defaultMode });
  }
}

/** Writes a payload into `dir` atomically (the ..data scheme); returns false when nothing changed. */
export function writeAtomically(dir: string, payload: Payload): boolean {
  mkdirSync(dir, { recursive: true });
  const dataLink = join(dir, '..data');
  if (existsSync(dataLink)) {
    const current = join(dir, readlinkSync(dataLink));
    let same = true;
    for (const [p, e] of payload) {
      const f = join(current, p);
      if (!existsSync(f) || !readFileSync(f).equals(e.data) || (statSync(f).mode & 0o7777) !== e.mode) {
        same = false;
        break;
      }
    }
    if (same && countFiles(current) === payload.size) return false;
  }
  const stamp = `..${new Date().toISOString().replace(/[:.]/g, '_')}.${process.pid}.${Math.random().toString(36).slice(2, 8)}`;
  const ts = join(dir, stamp);
  mkdirSync(ts, { mode: 0o755 });
  for (const [p, e] of payload) {
    const f = join(ts, p);
    mkdirSync(dirname(f), { recursive: true });
    writeFileSync(f, e.data, { mode: e.mode });
  }
  const tmpLink = join(dir, '..data_tmp');
  rmSync(tmpLink, { force: true });
  symlinkSync(stamp, tmpLink);
  renameSync(tmpLink, dataLink);
  const top = new Set([...payload.keys()].map((p) => p.split('/')[0] ?? p));
  for (const name of top) {
    const link = join(dir, name);
    if (!existsLink(link)) symlinkSync(join('..data', name), link);
  }
  for (const name of readdirSync(dir)) {
    if (name === '..data' || name === stamp) continue;
    const full = join(dir, name);
    if (name.startsWith('..')) rmSync(full, { recursive: true, force: true });
    else if (!top.has(name) && lstatSync(full).isSymbolicLink()) rmSync(full, { force: true });
  }
  return true;
}

function existsLink(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

function countFiles(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true }))
    n += e.isDirectory() ? countFiles(join(dir, e.name)) : 1;
  return n;
}

function isMountPoint(dir: string): boolean {
  try {
    const info = readFileSync('/proc/self/mountinfo', 'utf8');
    return info.split('\n').some((l) => l.split(' ')[4] === dir);
  } catch {
    return false;
  }
}

/** Checks (or creates) a hostPath per its type, as kubelet's hostPath plugin does; returns the path. */
function checkHostPath(volume: string, p: string, type: string): string {
  const fail = (what: string): never => {
    throw new VolumeError(volume, `hostPath type check failed: ${p} is not a ${what}`);
  };
  switch (type) {
    case 'DirectoryOrCreate':
      mkdirSync(p, { recursive: true, mode: 0o755 });
      break;
    case 'FileOrCreate':
      if (!existsSync(p)) {
        mkdirSync(dirname(p), { recursive: true });
        writeFileSync(p, '', { mode: 0o644 });
      }
      break;
    case 'Directory':
      if (!existsSync(p) || !statSync(p).isDirectory()) fail('directory');
      break;
    case 'File':
      if (!existsSync(p) || !statSync(p).isFile()) fail('file');
      break;
    case 'Socket':
      if (!existsSync(p) || !statSync(p).isSocket()) fail('socket');
      break;
    case 'CharDevice':
      if (!existsSync(p) || !statSync(p).isCharacterDevice()) fail('character device');
      break;
    case 'BlockDevice':
      if (!existsSync(p) || !statSync(p).isBlockDevice()) fail('block device');
      break;
    default:
      break;
  }
  return p;
}

const ANN_PROVISIONED_BY = 'pv.kubernetes.io/provisioned-by';
const LOCAL_PATH_PROVISIONERS = new Set(['rancher.io/local-path', 'k8ts.io/local-path']);

/**
 * A persistentVolumeClaim volume that cannot be set up yet (the claim is missing or unbound, or
 * its volume is missing): kubelet's volume manager reports these before any mount is tried, in
 * these words.
 */
export class UnmountedVolumeError extends VolumeError {
  constructor(volume: string, detail: string) {
    super(volume, detail);
    this.message =
      `Unable to attach or mount volumes: unmounted volumes=[${volume}], unattached volumes=[], ` +
      `failed to process volumes=[${volume}]: ${detail}`;
  }
}

/** Names of the pod's volumes every mount of which is read-only (a claim mounted readOnly). */
export function readOnlyVolumes(pod: Pod): Set<string> {
  const out = new Set<string>();
  for (const v of pod.spec?.volumes ?? []) if (v.persistentVolumeClaim?.readOnly === true) out.add(v.name);
  return out;
}

export class VolumeManager {
  constructor(
    private readonly podsDir: string,
    private readonly source: PodObjectSource,
  ) {}

  podDir(uid: string): string {
    return join(this.podsDir, uid);
  }

  private volumeDir(uid: string, kind: string, name: string): string {
    return join(this.podDir(uid), 'volumes', `kubernetes.io~${kind}`, name);
  }

  /** Prepares every volume of the pod and returns volume name → host path. Idempotent. */
  async prepare(pod: Pod, facts: PodRuntimeFacts): Promise<Map<string, string>> {
    const uid = pod.metadata.uid ?? '';
    const out = new Map<string, string>();
    for (const v of pod.spec?.volumes ?? []) {
      const path = await this.prepareOne(pod, uid, v, facts);
      if (path) out.set(v.name, path);
    }
    return out;
  }

  private async prepareOne(
    pod: Pod,
    uid: string,
    v: Volume,
    facts: PodRuntimeFacts,
  ): Promise<string | undefined> {
    const ns = pod.metadata.namespace ?? 'default';
    if (v.emptyDir) {
      const dir = this.volumeDir(uid, 'empty-dir', v.name);
      mkdirSync(dir, { recursive: true, mode: 0o777 });
      if (v.emptyDir.medium === 'Memory' && !isMountPoint(dir)) {
        const size = bytesOf(v.emptyDir.sizeLimit);
        try {
          await run('mount', ['-t', 'tmpfs', '-o', `mode=0777${size ? `,size=${size}` : ''}`, 'tmpfs', dir]);
        } catch (e) {
          log.warn('cannot mount tmpfs for a Memory emptyDir; using the disk', {
            volume: v.name,
            err: e as Error,
          });
        }
      }
      return dir;
    }
    if (v.hostPath) return checkHostPath(v.name, v.hostPath.path, v.hostPath.type ?? '');
    if (v.persistentVolumeClaim) return this.claimPath(ns, v.name, v.persistentVolumeClaim.claimName);
    if (v.configMap) {
      const dir = this.volumeDir(uid, 'configmap', v.name);
      const name = v.configMap.name ?? '';
      const cm = await this.source.configMap(ns, name);
      const payload: Payload = new Map();
      if (!cm && !v.configMap.optional) throw new VolumeError(v.name, `configmap "${name}" not found`);
      if (cm)
        addItems(
          v.name,
          payload,
          configMapValues(cm.data, cm.binaryData),
          v.configMap.items,
          v.configMap.defaultMode ?? DEFAULT_MODE,
          `ConfigMap ${ns}/${name}`,
        );
      writeAtomically(dir, payload);
      return dir;
    }
    if (v.secret) {
      const dir = this.volumeDir(uid, 'secret', v.name);
      const name = v.secret.secretName ?? '';
      const s = await this.source.secret(ns, name);
      const payload: Payload = new Map();
      if (!s && !v.secret.optional) throw new VolumeError(v.name, `secret "${name}" not found`);
      if (s)
        addItems(
          v.name,
          payload,
          secretValues(s.data),
          v.secret.items,
          v.secret.defaultMode ?? DEFAULT_MODE,
          `Secret ${ns}/${name}`,
        );
      writeAtomically(dir, payload);
      return dir;
    }
    if (v.downwardAPI) {
      const dir = this.volumeDir(uid, 'downward-api', v.name);
      const payload: Payload = new Map();
      this.addDownward(
        pod,
        v.name,
        payload,
        v.downwardAPI.items,
        v.downwardAPI.defaultMode ?? DEFAULT_MODE,
        facts,
      );
      writeAtomically(dir, payload);
      return dir;
    }
    if (v.projected) {
      const dir = this.volumeDir(uid, 'projected', v.name);
      const mode = v.projected.defaultMode ?? DEFAULT_MODE;
      const payload: Payload = new Map();
      for (const src of v.projected.sources ?? []) {
        if (src.configMap) {
          const name = src.configMap.name ?? '';
          const cm = await this.source.configMap(ns, name);
          if (!cm) {
            if (src.configMap.optional) continue;
            throw new VolumeError(v.name, `configmap "${name}" not found`);
          }
          addItems(
            v.name,
            payload,
            configMapValues(cm.data, cm.binaryData),
            src.configMap.items,
            mode,
            `ConfigMap ${ns}/${name}`,
          );
        } else if (src.secret) {
          const name = src.secret.name ?? '';
          const s = await this.source.secret(ns, name);
          if (!s) {
            if (src.secret.optional) continue;
            throw new VolumeError(v.name, `secret "${name}" not found`);
          }
          addItems(v.name, payload, secretValues(s.data), src.secret.items, mode, `Secret ${ns}/${name}`);
        } else if (src.downwardAPI) {
          this.addDownward(pod, v.name, payload, src.downwardAPI.items, mode, facts);
        } else if (src.serviceAccountToken) {
          const t = src.serviceAccountToken;
          const token = this.source.serviceAccountToken
            ? await this.source.serviceAccountToken(pod, t.audience, t.expirationSeconds ?? 3600)
            : undefined;
          if (token === undefined) {
            log.debug('no service account token source; leaving the token file out', {
              pod: pod.metadata.name,
              volume: v.name,
            });
            continue;
          }
          payload.set(checkRelative(v.name, t.path), { data: Buffer.from(token), mode });
        }
      }
      writeAtomically(dir, payload);
      return dir;
    }
    log.debug('volume kind not handled by the node agent', { pod: pod.metadata.name, volume: v.name });
    return undefined;
  }

  /**
   * A claim's volume on this node: the claim must be Bound and its volume a hostPath or local
   * volume (bind-mounted into the containers; readOnly claims are mounted read-only, see
   * readOnlyVolumes). Other volume types need plugins this node does not have.
   */
  private async claimPath(ns: string, volume: string, claimName: string): Promise<string> {
    const source = this.source;
    if (!source.persistentVolumeClaim || !source.persistentVolume)
      throw new VolumeError(volume, 'this node cannot read PersistentVolumeClaims');
    const pvc = await source.persistentVolumeClaim(ns, claimName);
    if (!pvc)
      throw new UnmountedVolumeError(
        volume,
        `error processing PVC ${ns}/${claimName}: failed to fetch PVC from API server: persistentvolumeclaims "${claimName}" not found`,
      );
    if (pvc.metadata?.deletionTimestamp)
      throw new UnmountedVolumeError(
        volume,
        `error processing PVC ${ns}/${claimName}: can't start pod because PVC is being deleted`,
      );
    const pvName = pvc.spec?.volumeName ?? '';
    if (pvc.status?.phase !== 'Bound' || pvName === '')
      throw new UnmountedVolumeError(volume, `error processing PVC ${ns}/${claimName}: PVC is not bound`);
    const pv = await source.persistentVolume(pvName);
    if (!pv)
      throw new UnmountedVolumeError(
        volume,
        `error processing PVC ${ns}/${claimName}: failed to fetch PV ${pvName} from API server: persistentvolumes "${pvName}" not found`,
      );
    const ref = pv.spec?.claimRef;
    if (ref?.uid !== pvc.metadata?.uid)
      throw new UnmountedVolumeError(
        volume,
        `error processing PVC ${ns}/${claimName}: PV ${pvName} is not bound to this claim`,
      );
    if (pv.spec?.hostPath) {
      const p = pv.spec.hostPath.path;
      // The local-path provisioner's setup makes its directories world-writable (mkdir -m 0777),
      // so that containers running as any user can write to their claim; done here on first mount.
      const localPath = LOCAL_PATH_PROVISIONERS.has(pv.metadata?.annotations?.[ANN_PROVISIONED_BY] ?? '');
      if (localPath && !existsSync(p)) {
        mkdirSync(p, { recursive: true });
        chmodSync(p, 0o777);
      }
      return checkHostPath(volume, p, pv.spec.hostPath.type ?? '');
    }
    if (pv.spec?.local) {
      const p = pv.spec.local.path;
      if (!existsSync(p)) throw new VolumeError(volume, `path "${p}" does not exist`);
      return p;
    }
    throw new VolumeError(
      volume,
      `PersistentVolume "${pvName}" is of a type this node cannot mount (it mounts hostPath and local volumes)`,
    );
  }

  private addDownward(
    pod: Pod,
    volume: string,
    payload: Payload,
    items: DownwardAPIVolumeFile[] | undefined,
    mode: number,
    facts: PodRuntimeFacts,
  ): void {
    for (const it of items ?? []) {
      let value: string;
      try {
        if (it.fieldRef) value = fieldRefValue(pod, it.fieldRef.fieldPath, facts);
        else if (it.resourceFieldRef)
          value = resourceFieldValue(pod, undefined, it.resourceFieldRef, hostCapacity());
        else continue;
      } catch (e) {
        throw new VolumeError(volume, (e as Error).message);
      }
      payload.set(checkRelative(volume, it.path), { data: Buffer.from(value), mode: it.mode ?? mode });
    }
  }

  /** Unmounts tmpfs volumes and removes the pod's folder. */
  async cleanup(uid: string): Promise<void> {
    const dir = this.podDir(uid);
    if (!existsSync(dir)) return;
    const emptyDirs = join(dir, 'volumes', 'kubernetes.io~empty-dir');
    if (existsSync(emptyDirs)) {
      for (const name of readdirSync(emptyDirs)) {
        const p = join(emptyDirs, name);
        if (isMountPoint(p)) {
          try {
            await run('umount', [p]);
          } catch (e) {
            log.warn('cannot unmount a tmpfs emptyDir', { path: p, err: e as Error });
            return;
          }
        }
      }
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

function configMapValues(
  data: Record<string, string> | undefined,
  binary: Record<string, string> | undefined,
): Map<string, Buffer> {
  const m = new Map<string, Buffer>();
  for (const [k, v] of Object.entries(data ?? {})) m.set(k, Buffer.from(v));
  for (const [k, v] of Object.entries(binary ?? {})) m.set(k, Buffer.from(v, 'base64'));
  return m;
}

function secretValues(data: Record<string, string> | undefined): Map<string, Buffer> {
  const m = new Map<string, Buffer>();
  for (const [k, v] of Object.entries(data ?? {})) m.set(k, Buffer.from(v, 'base64'));
  return m;
}
