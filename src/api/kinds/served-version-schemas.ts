// Schemas of the old versions served by conversion (the seeds' extensions/v1beta1 Deployment and
// Ingress, networking.k8s.io/v1beta1 Ingress, batch/v1beta1 CronJob). The generated definitions
// describe today's versions only; these are derived from them with the old versions' own fields
// (spec.rollbackTo, optional selector; serviceName/servicePort backends), so that kubectl explain,
// strict field validation and client-side apply work in those versions too.
import type { GroupVersionKind, Schema, SchemaRegistry } from '../schema.js';

const INT_OR_STRING = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';

/** A copy for another group-version-kind (or, without one, a copy with no GVK extension). */
function retargeted(s: Schema, description?: string, gvk?: GroupVersionKind): Schema {
  const out: Schema = structuredClone(s);
  delete out['x-kubernetes-group-version-kind'];
  if (gvk) out['x-kubernetes-group-version-kind'] = [gvk];
  if (description !== undefined) out.description = description;
  return out;
}

function withProperty(s: Schema, name: string, prop: Schema): Schema {
  return { ...s, properties: { ...(s.properties ?? {}), [name]: prop } };
}

function listOf(base: Schema | undefined, itemRef: string, gvk: GroupVersionKind): Schema | undefined {
  if (!base?.properties?.items) return undefined;
  const out = retargeted(base, undefined, { ...gvk, kind: `${gvk.kind}List` });
  out.properties = { ...out.properties, items: { ...out.properties!.items!, items: { $ref: itemRef } } };
  return out;
}

function deploymentDefinitions(get: (n: string) => Schema | undefined): Record<string, Schema> {
  const dep = get('io.k8s.api.apps.v1.Deployment');
  const spec = get('io.k8s.api.apps.v1.DeploymentSpec');
  if (!dep || !spec) return {};
  const p = 'io.k8s.api.extensions.v1beta1';
  const out: Record<string, Schema> = {};
  const gvk = { group: 'extensions', version: 'v1beta1', kind: 'Deployment' };
  const d = retargeted(
    dep,
    'A Deployment in its extensions/v1beta1 form, kept for old manifests; stored as apps/v1.',
    gvk,
  );
  d.properties = { ...d.properties, spec: { ...d.properties!.spec!, $ref: `${p}.DeploymentSpec` } };
  out[`${p}.Deployment`] = d;
  let s = retargeted(spec);
  s.required = (s.required ?? []).filter((r) => r !== 'selector');
  s = withProperty(s, 'rollbackTo', {
    $ref: `${p}.RollbackConfig`,
    description: 'Deprecated: ask the server to roll back to this revision of the template.',
  });
  if (s.properties?.selector)
    s.properties.selector = {
      ...s.properties.selector,
      description: 'Which pods belong to the deployment. Defaults to the labels of the pod template.',
    };
  out[`${p}.DeploymentSpec`] = s;
  out[`${p}.RollbackConfig`] = {
    type: 'object',
    description: 'A rollback request: the revision to return to.',
    properties: {
      revision: {
        type: 'integer',
        format: 'int64',
        description: 'The revision to roll back to; 0 means the one before the current.',
      },
    },
  };
  const list = listOf(get('io.k8s.api.apps.v1.DeploymentList'), `${p}.Deployment`, gvk);
  if (list) out[`${p}.DeploymentList`] = list;
  return out;
}

function ingressDefinitions(
  get: (n: string) => Schema | undefined,
  p: string,
  apiVersion: string,
): Record<string, Schema> {
  const ing = get('io.k8s.api.networking.v1.Ingress');
  const spec = get('io.k8s.api.networking.v1.IngressSpec');
  const rule = get('io.k8s.api.networking.v1.IngressRule');
  const path = get('io.k8s.api.networking.v1.HTTPIngressPath');
  const value = get('io.k8s.api.networking.v1.HTTPIngressRuleValue');
  if (!ing || !spec || !rule || !path || !value) return {};
  const out: Record<string, Schema> = {};
  const [group, version] = apiVersion.split('/') as [string, string];
  const gvk = { group, version, kind: 'Ingress' };
  const i = retargeted(
    ing,
    `An Ingress in its ${apiVersion} form, kept for old manifests; stored as networking.k8s.io/v1.`,
    gvk,
  );
  i.properties = { ...i.properties, spec: { ...i.properties!.spec!, $ref: `${p}.IngressSpec` } };
  out[`${p}.Ingress`] = i;
  const s = retargeted(spec);
  const props = { ...(s.properties ?? {}) };
  delete props.defaultBackend;
  props.backend = {
    $ref: `${p}.IngressBackend`,
    description: 'Where requests that match no rule go.',
  };
  props.rules = { ...props.rules!, items: { $ref: `${p}.IngressRule` } };
  s.properties = props;
  out[`${p}.IngressSpec`] = s;
  const r = retargeted(rule);
  r.properties = { ...r.properties, http: { ...r.properties!.http!, $ref: `${p}.HTTPIngressRuleValue` } };
  out[`${p}.IngressRule`] = r;
  const v = retargeted(value, 'The paths of an HTTP rule.');
  v.properties = {
    ...v.properties,
    paths: {
      ...v.properties!.paths!,
      description: 'Paths and the backends they route to.',
      items: { $ref: `${p}.HTTPIngressPath` },
    },
  };
  out[`${p}.HTTPIngressRuleValue`] = v;
  const hp = retargeted(path);
  hp.properties = { ...hp.properties, backend: { ...hp.properties!.backend!, $ref: `${p}.IngressBackend` } };
  hp.required = ['backend'];
  if (hp.properties.pathType)
    hp.properties.pathType = {
      ...hp.properties.pathType,
      description:
        'How the path matches: Exact, Prefix or ImplementationSpecific (the default in this version).',
    };
  out[`${p}.HTTPIngressPath`] = hp;
  out[`${p}.IngressBackend`] = {
    type: 'object',
    description: 'A backend as this version names it: a service by name and port, or a resource.',
    properties: {
      serviceName: { type: 'string', description: 'The name of the service that receives the requests.' },
      servicePort: { $ref: INT_OR_STRING, description: 'The port of that service, by number or by name.' },
      resource: {
        $ref: 'io.k8s.api.core.v1.TypedLocalObjectReference',
        description: 'Another object in the namespace that serves the requests, instead of a service.',
      },
    },
  };
  const list = listOf(get('io.k8s.api.networking.v1.IngressList'), `${p}.Ingress`, gvk);
  if (list) out[`${p}.IngressList`] = list;
  return out;
}

function cronJobDefinitions(get: (n: string) => Schema | undefined): Record<string, Schema> {
  const cj = get('io.k8s.api.batch.v1.CronJob');
  if (!cj) return {};
  const p = 'io.k8s.api.batch.v1beta1';
  const gvk = { group: 'batch', version: 'v1beta1', kind: 'CronJob' };
  const out: Record<string, Schema> = {
    [`${p}.CronJob`]: retargeted(
      cj,
      'A CronJob in its batch/v1beta1 form, kept for old manifests; stored as batch/v1.',
      gvk,
    ),
  };
  const list = listOf(get('io.k8s.api.batch.v1.CronJobList'), `${p}.CronJob`, gvk);
  if (list) out[`${p}.CronJobList`] = list;
  return out;
}

/** The old versions' definitions, derived from the current ones in `schemas`. */
export function servedVersionDefinitions(schemas: Pick<SchemaRegistry, 'get'>): Record<string, Schema> {
  const get = (n: string): Schema | undefined => schemas.get(n);
  return {
    ...deploymentDefinitions(get),
    ...ingressDefinitions(get, 'io.k8s.api.extensions.v1beta1', 'extensions/v1beta1'),
    ...ingressDefinitions(get, 'io.k8s.api.networking.v1beta1', 'networking.k8s.io/v1beta1'),
    ...cronJobDefinitions(get),
  };
}

/** Adds the old versions' definitions the registry does not have yet. */
export function addServedVersionDefinitions(schemas: SchemaRegistry): void {
  for (const [name, s] of Object.entries(servedVersionDefinitions(schemas)))
    if (!schemas.get(name)) schemas.set(name, s);
}
