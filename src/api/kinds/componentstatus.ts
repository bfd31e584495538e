// core/v1 ComponentStatus: a read-only view of control plane health (deprecated upstream, still
// listed by `kubectl get cs`). Nothing is stored; the API server builds the list on each request.
import type { KubeObject } from '../meta.js';
import { isPlainObject } from '../meta.js';
import type { ResourceDescription } from '../types.js';
import { arrField, nameColumn } from './columns.js';

/** The Healthy condition's status, message and error as upstream's printer reads them. */
function health(obj: KubeObject): { status: string; message: string; error: string } {
  for (const c of arrField(obj, 'conditions')) {
    if (!isPlainObject(c) || c.type !== 'Healthy') continue;
    return {
      status: c.status === 'True' ? 'Healthy' : 'Unhealthy',
      message: typeof c.message === 'string' ? c.message : '',
      error: typeof c.error === 'string' ? c.error : '',
    };
  }
  return { status: 'Unknown', message: '', error: '' };
}

export const componentStatusResource: ResourceDescription = {
  group: '',
  version: 'v1',
  kind: 'ComponentStatus',
  plural: 'componentstatuses',
  singular: 'componentstatus',
  shortNames: ['cs'],
  namespaced: false,
  schemaRef: 'io.k8s.api.core.v1.ComponentStatus',
  verbs: ['get', 'list'],
  tableColumns: [
    nameColumn,
    {
      name: 'Status',
      type: 'string',
      description: 'Healthy, Unhealthy or Unknown, from the Healthy condition.',
      priority: 0,
      cell: (obj) => health(obj).status,
    },
    {
      name: 'Message',
      type: 'string',
      description: 'The message of the health probe.',
      priority: 0,
      cell: (obj) => health(obj).message,
    },
    {
      name: 'Error',
      type: 'string',
      description: 'The error of the health probe, if any.',
      priority: 0,
      cell: (obj) => health(obj).error,
    },
  ],
};
