// Image pulls as kubelet's image manager does them: by imagePullPolicy (Always, IfNotPresent,
// Never), credentials from the pod's imagePullSecrets (dockerconfigjson), one pull at a time per
// image however many pods want it, and after a failure a back-off per image (10 s doubling to
// 5 min) during which containers wait with ImagePullBackOff instead of ErrImagePull.
import type { Pod, Secret } from '../../api/generated/types.js';
import type { EventType } from '../../client/events.js';
import { createLogger } from '../../util/log.js';
import { metrics } from '../../util/metrics.js';
import type { CriClient } from '../cri/client.js';
import type { AuthConfig, PodSandboxConfig } from '../cri/types.js';
import { normalizeImageRef } from '../images/oci.js';
import { grpcErrorText } from './cri-errors.js';
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

/** Receives the events kubelet's image manager records on the container (Pulling, Pulled, Failed, BackOff ...). */
export type ImageEventSink = (type: EventType, reason: string, message: string) => void;

/** Go's time.Duration text for the durations a pull takes ("523ms", "1.234s", "1m2.5s"). */
export function goDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  const s = ms / 1000;
  if (s < 60) return `${Number(s.toFixed(3))}s`;
  const m = Math.floor(s / 60);
  return `${m}m${Number((s - m * 60).toFixed(3))}s`;
}

// distribution/reference's grammar, which kubelet parses image names with.
const ALNUM = '[a-z0-9]+';
const PATH_COMPONENT = `${ALNUM}(?:(?:[._]|__|[-]+)${ALNUM})*`;
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?`;
const REFERENCE = new RegExp(
  `^(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*` +
    '(?::[\\w][\\w.-]{0,127})?(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?$',
);

/**
 * Why kubelet could not parse an image name (as its applyDefaultImageTag reports it, through
 * distribution's ParseNormalizedNamed), or undefined for a valid one.
 */
export function imageNameError(image: string): string | undefined {
  if (/^[a-f0-9]{64}$/.test(image))
    return `invalid repository name (${image}), cannot specify 64-byte hexadecimal strings`;
  const slash = image.indexOf('/');
  const first = slash === -1 ? '' : image.slice(0, slash);
  let domain = 'docker.io';
  let remainder = image;
  if (slash !== -1 && (/[.:]/.test(first) || first === 'localhost' || first.toLowerCase() !== first)) {
    domain = first === 'index.docker.io' ? 'docker.io' : first;
    remainder = image.slice(slash + 1);
  }
  if (domain === 'docker.io' && !remainder.includes('/')) remainder = `library/${remainder}`;
  const colon = remainder.indexOf(':');
  const remoteName = colon === -1 ? remainder : remainder.slice(0, colon);
  if (remoteName.toLowerCase() !== remoteName)
    return `invalid reference format: repository name (${remoteName}) must be lowercase`;
  const full = `${domain}/${remainder}`;
  if (!REFERENCE.test(full)) return 'invalid reference format';
  const nameLength = full.replace(/[:@].*$/, '').length;
  if (nameLength > 255) return 'repository name must not be more than 255 characters';
  return undefined;
}

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
  private readonly inflight = new Map<string, Promise<{ ref: string; pullMs: number }>>();
  private readonly backoff = new Map<string, Backoff>();

  constructor(
    private readonly client: CriClient,
    private readonly source: PodObjectSource,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Makes the image present per the policy; never throws for pull failures (they are results).
   * events receives what kubelet records on the container while doing it.
   */
  async ensure(
    pod: Pod,
    image: string,
    policy: string | undefined,
    sandbox: PodSandboxConfig | undefined,
    events: ImageEventSink = () => undefined,
  ): Promise<ImageResult> {
    if (!image)
      return {
        ok: false,
        reason: 'InvalidImageName',
        message: 'the container names no image',
        retryAfterMs: IMAGE_BACKOFF_MAX_MS,
      };
    const invalid = imageNameError(image);
    if (invalid) {
      const message = `Failed to apply default image tag "${image}": couldn't parse image name "${image}": ${invalid}`;
      events('Warning', 'InspectFailed', message);
      return { ok: false, reason: 'InvalidImageName', message, retryAfterMs: IMAGE_BACKOFF_MAX_MS };
    }
    const normalized = normalizeImageRef(image);
    const pol = policy ?? defaultPullPolicy(image);
    if (pol !== 'Always') {
      const present = await this.client.imageStatus(normalized);
      if (present) {
        events('Normal', 'Pulled', `Container image "${image}" already present on machine`);
        return { ok: true, imageRef: present.id };
      }
      if (pol === 'Never') {
        const message = `Container image "${image}" is not present with pull policy of Never`;
        events('Warning', 'ErrImageNeverPull', message);
        return {
          ok: false,
          reason: 'ErrImageNeverPull',
          message,
          retryAfterMs: IMAGE_BACKOFF_BASE_MS,
        };
      }
    }
    const now = this.now();
    const b = this.backoff.get(normalized);
    if (b && now < b.until) {
      events('Normal', 'BackOff', `Back-off pulling image "${image}"`);
      return {
        ok: false,
        reason: 'ImagePullBackOff',
        message: `Back-off pulling image "${image}": ${b.message}`,
        retryAfterMs: b.until - now,
      };
    }
    events('Normal', 'Pulling', `Pulling image "${image}"`);
    const asked = this.now();
    try {
      const { ref, pullMs } = await this.pull(pod, normalized, sandbox);
      this.backoff.delete(normalized);
      const size = await this.client.imageStatus(ref).then(
        (i) => i?.size,
        (e: unknown) => log.debug('image status after pull', { image: normalized, err: e as Error }),
      );
      // A pull shared with an earlier request may have begun before this one asked.
      const waitedMs = this.now() - asked;
      events(
        'Normal',
        'Pulled',
        `Successfully pulled image "${image}" in ${goDuration(Math.min(pullMs, waitedMs))} (${goDuration(waitedMs)} including waiting).` +
          (size !== undefined ? ` Image size: ${size} bytes.` : ''),
      );
      return { ok: true, imageRef: ref };
    } catch (e) {
      const message = grpcErrorText(e);
      events('Warning', 'Failed', `Failed to pull image "${image}": ${message}`);
      const delayMs = b ? Math.min(IMAGE_BACKOFF_MAX_MS, b.delayMs * 2) : IMAGE_BACKOFF_BASE_MS;
      // As kubelet: the back-off's message carries the pull error with its reason.
      this.backoff.set(normalized, {
        delayMs,
        until: this.now() + delayMs,
        message: `ErrImagePull: ${message}`,
      });
      return { ok: false, reason: 'ErrImagePull', message, retryAfterMs: delayMs };
    }
  }

  /** Pulls one image (one pull per image at a time): its reference, and how long the pull itself took. */
  private pull(
    pod: Pod,
    normalized: string,
    sandbox: PodSandboxConfig | undefined,
  ): Promise<{ ref: string; pullMs: number }> {
    const running = this.inflight.get(normalized);
    if (running) return running;
    const p = (async (): Promise<{ ref: string; pullMs: number }> => {
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
        const pullMs = this.now() - started;
        pulls.inc({ result: 'success' });
        pullSeconds.observe(pullMs / 1000);
        log.info('pulled image', { image: normalized, ms: pullMs });
        return { ref, pullMs };
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
