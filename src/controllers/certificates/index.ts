// The CSR approver and signer as the controller manager runs them.
import { StatusError } from '../../api/errors.js';
import type { KubeObject } from '../../api/meta.js';
import { resourcePath, type RestClient } from '../../client/rest.js';
import { CERTIFICATESIGNINGREQUESTS, NODES } from '../../client/typed-refs.js';
import type { Node } from '../../api/generated/types.js';
import type { CertificateAuthority } from '../../pki/certs.js';
import { queueRunner } from '../common/runner.js';
import type { ControllerContext, ControllerDescriptor, StopController } from '../types.js';
import { CsrApprover, type ApproverClient } from './approver.js';
import type { CsrObj } from './common.js';
import { CsrSigner, type SignerClient } from './signer.js';

export { CsrApprover } from './approver.js';
export { CsrSigner } from './signer.js';
export {
  certificateSigningRequestResource,
  csrApprovalStrategy,
  CSR_APPROVAL_SUBRESOURCE,
} from '../../api/kinds/certificate-signing-request.js';

const DEFAULT_WORKERS = 5;

/** The resource is served but the subresource is not (a missing object names itself in details). */
function isUnservedSubresource(err: unknown): boolean {
  return err instanceof StatusError && err.code === 404 && !err.status.details?.name;
}

export function restApproverClient(client: RestClient): ApproverClient {
  return {
    async subjectAccessReview(q) {
      const sar = {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        spec: {
          user: q.user,
          uid: q.uid,
          groups: q.groups,
          extra: q.extra,
          resourceAttributes: {
            group: q.group,
            resource: q.resource,
            subresource: q.subresource,
            verb: q.verb,
            version: q.version,
          },
        },
      };
      const res = await client.request<{ status?: { allowed?: boolean } }>(
        'POST',
        '/apis/authorization.k8s.io/v1/subjectaccessreviews',
        { body: sar },
      );
      return res?.status?.allowed === true;
    },
    async updateApproval(csr) {
      try {
        await client.update<KubeObject>(CERTIFICATESIGNINGREQUESTS, csr, 'approval');
      } catch (err) {
        // Servers without certificatesigningrequests/approval take the condition through status.
        if (!isUnservedSubresource(err)) throw err;
        await client.update<KubeObject>(CERTIFICATESIGNINGREQUESTS, csr, 'status');
      }
    },
  };
}

export function restSignerClient(client: RestClient): SignerClient {
  return {
    async updateStatus(csr) {
      await client.request(
        'PUT',
        resourcePath(CERTIFICATESIGNINGREQUESTS, undefined, csr.metadata.name ?? '', 'status'),
        { body: csr },
      );
    },
  };
}

function startCsrController(
  ctx: ControllerContext,
  queueName: string,
  make: (
    csrs: ReturnType<typeof csrInformer>,
    enqueue: (name: string) => void,
  ) => {
    sync(name: string): Promise<void>;
    handlers(
      enqueue: (name: string) => void,
    ): Parameters<ReturnType<typeof csrInformer>['addEventHandler']>[0];
  },
): StopController {
  const informer = csrInformer(ctx);
  const runner = queueRunner(queueName, ctx.logger, (name) => c.sync(name));
  const enqueue = (name: string): void => runner.queue.add(name);
  const c = make(informer, enqueue);
  const reg = informer.addEventHandler(c.handlers(enqueue));
  let stopped = false;
  void ctx.waitForCacheSync().then((ok) => {
    if (ok && !stopped) void runner.run(ctx.workers ?? DEFAULT_WORKERS);
  });
  return async () => {
    stopped = true;
    reg.remove();
    await runner.stop();
  };
}

function csrInformer(ctx: ControllerContext) {
  return ctx.informers.informerFor<CsrObj>(CERTIFICATESIGNINGREQUESTS);
}

export const csrApprovingController: ControllerDescriptor = {
  name: 'csrapproving',
  start(ctx): StopController {
    return startCsrController(
      ctx,
      'csrapproving',
      (inf) =>
        new CsrApprover({
          csrs: inf.getLister(),
          nodes: ctx.informers.informerFor<Node>(NODES).getLister(),
          client: restApproverClient(ctx.client),
          log: ctx.logger,
        }),
    );
  },
};

export interface CsrSigningOptions {
  /** The cluster CA (cert + key PEM) that signs both client signers' certificates. */
  ca: CertificateAuthority;
  /** Upstream's --cluster-signing-duration, in seconds (default a year). */
  certTtlSeconds?: number;
}

export function csrSigningController(opts: CsrSigningOptions): ControllerDescriptor {
  return {
    name: 'csrsigning',
    start(ctx): StopController {
      return startCsrController(
        ctx,
        'csrsigning',
        (inf) =>
          new CsrSigner({
            csrs: inf.getLister(),
            client: restSignerClient(ctx.client),
            ca: opts.ca,
            certTtlSeconds: opts.certTtlSeconds,
            log: ctx.logger,
          }),
      );
    },
  };
}
