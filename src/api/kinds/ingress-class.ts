// networking.k8s.io/v1 IngressClass (cluster-scoped).
import { fieldErr, type FieldError } from '../errors.js';
import type { KubeObject } from '../meta.js';
import type { ResourceDescription } from '../types.js';
import { AGE_COLUMN, NAME_COLUMN, column, isDNS1123Subdomain, rec, spec, str } from './util.js';

export function validateIngressClass(obj: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const s = spec(obj);
  const controller = str(s.controller);
  if (controller === '') errs.push(fieldErr.required('spec.controller'));
  else if (controller.length > 250) errs.push(fieldErr.tooLong('spec.controller', controller, 250));
  else {
    const slash = controller.indexOf('/');
    const domain = slash < 0 ? controller : controller.slice(0, slash);
    for (const m of isDNS1123Subdomain(domain)) errs.push(fieldErr.invalid('spec.controller', controller, m));
    if (slash < 0)
      errs.push(
        fieldErr.invalid(
          'spec.controller',
          controller,
          'must be a domain-prefixed path (such as "acme.io/foo")',
        ),
      );
  }
  const params = rec(s.parameters);
  if (params) {
    if (str(params.kind) === '') errs.push(fieldErr.required('spec.parameters.kind'));
    if (str(params.name) === '') errs.push(fieldErr.required('spec.parameters.name'));
    const scope = params.scope;
    if (scope !== undefined && scope !== 'Cluster' && scope !== 'Namespace')
      errs.push(fieldErr.notSupported('spec.parameters.scope', scope, ['Cluster', 'Namespace']));
    if (scope === 'Namespace' && str(params.namespace) === '')
      errs.push(fieldErr.required('spec.parameters.namespace', "`parameters.scope` is set to 'Namespace'"));
    if (scope === 'Cluster' && params.namespace !== undefined)
      errs.push(fieldErr.forbidden('spec.parameters.namespace', "`parameters.scope` is set to 'Cluster'"));
  }
  return errs;
}

export const ingressClassResource: ResourceDescription = {
  group: 'networking.k8s.io',
  version: 'v1',
  kind: 'IngressClass',
  plural: 'ingressclasses',
  singular: 'ingressclass',
  namespaced: false,
  schemaRef: 'io.k8s.api.networking.v1.IngressClass',
  tableColumns: [
    NAME_COLUMN,
    column('Controller', 'string', 'Controller that is responsible for handling this class', (o) =>
      str(spec(o).controller),
    ),
    column('Parameters', 'string', 'A reference to a resource with additional parameters', (o) => {
      const p = rec(spec(o).parameters);
      if (!p) return '<none>';
      const group = typeof p.apiGroup === 'string' ? `.${p.apiGroup}` : '';
      return `${str(p.kind)}${group}/${str(p.name)}`;
    }),
    AGE_COLUMN,
  ],
  strategy: {
    default(obj) {
      const p = rec(spec(obj).parameters);
      if (p && p.scope === undefined) p.scope = 'Cluster';
    },
    validate: validateIngressClass,
    validateUpdate(obj, old) {
      const errs = validateIngressClass(obj);
      if (str(spec(obj).controller) !== str(spec(old).controller))
        errs.push(fieldErr.invalid('spec.controller', spec(obj).controller ?? '', 'field is immutable'));
      return errs;
    },
  },
};
