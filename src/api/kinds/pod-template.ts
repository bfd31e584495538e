// core/v1 PodTemplate.
import type { FieldError } from '../errors.js';
import type { KubeObject } from '../meta.js';
import type { ResourceDescription } from '../types.js';
import { defaultPodTemplateSpec, validatePodTemplateSpec } from './pod-spec.js';
import { NAME_COLUMN, column, formatLabels, get, rec, recs, str } from './util.js';

export function validatePodTemplate(obj: KubeObject): FieldError[] {
  return validatePodTemplateSpec(obj.template, 'template');
}

export const podTemplateResource: ResourceDescription = {
  group: '',
  version: 'v1',
  kind: 'PodTemplate',
  plural: 'podtemplates',
  singular: 'podtemplate',
  namespaced: true,
  schemaRef: 'io.k8s.api.core.v1.PodTemplate',
  tableColumns: [
    NAME_COLUMN,
    column('Containers', 'string', 'Names of each container in the template.', (o) =>
      recs(get(o.template, 'spec', 'containers'))
        .map((c) => str(c.name))
        .join(','),
    ),
    column('Images', 'string', 'Images referenced by each container in the template.', (o) =>
      recs(get(o.template, 'spec', 'containers'))
        .map((c) => str(c.image))
        .join(','),
    ),
    column('Pod Labels', 'string', 'The labels for the pod template.', (o) =>
      formatLabels(get(o.template, 'metadata', 'labels')),
    ),
  ],
  strategy: {
    default(obj) {
      defaultPodTemplateSpec(rec(obj.template));
    },
    validate: validatePodTemplate,
    validateUpdate: (obj) => validatePodTemplate(obj),
  },
};
