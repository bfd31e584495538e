// Image pulls as kubelet's image manager does them: by imagePullPolicy (Always, IfNotPresent,
// Never), credentials from the pod's imagePullSecrets (dockerconfigjson), one pull at a time per
// image however many pods want it, and after a failure a back-off per image (10 s doubling to
// 5 min) during which containers wait with ImagePullBackOff instead of ErrImagePull.
import type { Pod, Secret } from '../../api/generated/types.js';
import { createLogger } from '../../util/log.js';
import { metrics } from '../../util/metrics.js';
import type { CriClient } from '../cri/client.js';
import type { AuthConfig, PodSandboxConfig } from '../cri/types.js';
import { normalizeImageRef } from '../images/oci.js';
import type { PodObjectSource } from './env.js';

const log = createLogger('kuberuntime.images');
const pulls = metrics.counter('k8ts_image_pulls_total', 'Image pulls by result.');
const pullSeconds = metrics.histogram(
  'k8ts_image_pull_duration_seconds',
  'Duration of successful image pulls.',
);

export const IMAGE_BACKOFF_BASE_MS = 10_000;
export const IMAGE_BACKOFF_MAX_MS = 300_000;

export type ImageResult =
  | { ok: true; imageRef: string }
  | {
      ok: false;
      reason: 'ErrImagePull' | 'ImagePullBackOff' | 'ErrImageNeverPull' | 'InvalidImageName';
      message: string;
      retryAfterMs: number;
    };

interface Backoff {
  delayMs: number;
  until: number;
  message: string;
}

/** Whether a reference names a tag or digest other than latest. */
function hasFixedTag(image: string): boolean {
  if (image.includes('@')) return true;
  const last = image.slice(image.lastIndexOf('/') + 1);
  const colon = last.indexOf(':');
  return colon >= 0 && last.slice(colon + 1) !== 'latest';
}

export function defaultPullPolicy(image: string): string {
  return hasFixedTag(image) ? 'IfNotPresent' : 'Always';
}

function registryHost(normalized: string): string {
  return normalized.split('/')[0] ?? '';
}

function hostOfKey(key: string): string {
  return key.replace(/^https?:\/\//, '').split('/')[0] ?? key;
}

/** Credentials for an image from dockerconfigjson (or dockercfg) secrets. */
export function authFromSecrets(normalized: string, secrets: Secret[]): AuthConfig | undefined {
  const host = registryHost(normalized);
  const aliases =
    host === 'docker.io'
      ? new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io'])
      : new Set([host]);
  for (const s of secrets) {
    const raw = s.data?.['.dockerconfigjson'] ?? s.data?.['.dockercfg'];
    if (!raw) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.from(raw, 'base64').toString('utf8'));
    } catch {
      continue;
    }
    const doc = parsed as { auths?: Record<string, unknown> } & Record<string, unknown>;
    const auths: Record<string, unknown> = doc.auths ?? doc;
    for (const [key, v] of Object.entries(auths)) {
      if (!aliases.has(hostOfKey(key)) || typeof v !== 'object' || v === null) continue;
      const e = v as Record<string, unknown>;
      const str = (k: string): string | undefined => {
        const x = e[k];
        return typeof x === 'string' ? x : undefined;
      };
      let username = str('username');
      let password = str('password');
      const auth = str('auth');
      if ((!username || !password) && auth) {
        const decoded = Buffer.from(auth, 'base64').toString('utf8');
        const i = decoded.indexOf(':');
        if (i > 0) {
          username = decoded.slice(0, i);
          password = decoded.slice(i + 1);
        }
      }
      return {
        username,
        password,
        auth,
        serverAddress: host,
        identityToken: str('identitytoken'),
        registryToken: str('registrytoken'),
      };
    }
  }
  return undefined;
}

export class ImageManager {
  private readonly inflight = new Map<string, Promise<string>>();
  private readonly backoff = new Map<string, Backoff>();

  constructor(
    private readonly client: CriClient,
    private readonly source: PodObjectSource,
    private readonly now: () => number = Date.now,
  ) {}

  /** Makes the image present per the policy; never throws for pull failures (they are results). */
  async ensure(
    pod: Pod,
    image: string,
    policy: string | undefined,
    sandbox: PodSandboxConfig | undefined,
  ): Promise<ImageResult> {
    if (!image)
      return {
        ok: false,
        reason: 'InvalidImageName',
        message: 'the container names no image',
        retryAfterMs: IMAGE_BACKOFF_MAX_MS,
      };
    let normalized: string;
    try {
      normalized = normalizeImageRef(image);
    } catch (e) {
      return {
        ok: false,
        reason: 'InvalidImageName',
        message: `Failed to apply default image tag "${image}": ${(e as Error).message}`,
        retryAfterMs: IMAGE_BACKOFF_MAX_MS,
      };
    }
    if (/[A-Z\s]/.test((normalized.split('@')[0] ?? '').replace(/:[^/:]*$/, '')))
      return {
        ok: false,
        reason: 'InvalidImageName',
        message: `Failed to apply default image tag "${image}": invalid reference format`,
        retryAfterMs: IMAGE_BACKOFF_MAX_MS,
      };
    const pol = policy ?? defaultPullPolicy(image);
    if (pol !== 'Always') {
      const present = await this.client.imageStatus(normalized);
      if (present) return { ok: true, imageRef: present.id };
      if (pol === 'Never')
        return {
          ok: false,
          reason: 'ErrImageNeverPull',
          message: `Container image "${image}" is not present with pull policy of Never`,
          retryAfterMs: IMAGE_BACKOFF_BASE_MS,
        };
    }
    const now = this.now();
    const b = this.backoff.get(normalized);
    if (b && now < b.until)
      return {
        ok: false,
        reason: 'ImagePullBackOff',
        message: `Back-off pulling image "${image}": ${b.message}`,
        retryAfterMs: b.until - now,
      };
    try {
      const ref = await this.pull(pod, normalized, sandbox);
      this.backoff.delete(normalized);
      return { ok: true, imageRef: ref };
    } catch (e) {
      const message = (e as Error).message;
      const delayMs = b ? Math.min(IMAGE_BACKOFF_MAX_MS, b.delayMs * 2) : IMAGE_BACKOFF_BASE_MS;
      this.backoff.set(normalized, { delayMs, until: this.now() + delayMs, message });
      return { ok: false, reason: 'ErrImagePull', message, retryAfterMs: delayMs };
    }
  }

  private pull(pod: Pod, normalized: string, sandbox: PodSandboxConfig | undefined): Promise<string> {
    const running = this.inflight.get(normalized);
    if (running) return running;
    const p = (async (): Promise<string> => {
      const started = this.now();
      const secrets: Secret[] = [];
      for (const ref of pod.spec?.imagePullSecrets ?? []) {
        if (!ref.name) continue;
        const s = await this.source.secret(pod.metadata.namespace ?? 'default', ref.name);
        if (s) secrets.push(s);
      }
      const auth = authFromSecrets(normalized, secrets);
      try {
        const ref = await this.client.pullImage(normalized, auth, sandbox);
        pulls.inc({ result: 'success' });
        pullSeconds.observe((this.now() - started) / 1000);
        log.info('pulled image', { image: normalized, ms: this.now() - started });
        return ref;
      } catch (e) {
        pulls.inc({ result: 'failure' });
        log.warn('image pull failed', { image: normalized, err: e as Error });
        throw e;
      }
    })().finally(() => this.inflight.delete(normalized));
    this.inflight.set(normalized, p);
    return p;
  }
}
