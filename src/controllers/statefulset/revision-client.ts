// ControllerRevision writes over the REST API, for the StatefulSet and DaemonSet controllers.
import type { ControllerRevision } from '../../api/generated/types.js';
import type { RestClient } from '../../client/rest.js';
import { CONTROLLERREVISIONS } from '../../client/typed-refs.js';
import { isNotFound } from '../common/errors.js';
import type { RevisionClient } from './history.js';

export function restRevisionClient(client: RestClient): RevisionClient {
  return {
    create: (rev) => client.create<ControllerRevision>(CONTROLLERREVISIONS, rev.metadata.namespace, rev),
    updateRevisionNumber: (rev, revision) =>
      client.patch<ControllerRevision>(
        CONTROLLERREVISIONS,
        rev.metadata.namespace,
        rev.metadata.name ?? '',
        'merge',
        { revision },
      ),
    delete: async (namespace, name) => {
      try {
        await client.delete(CONTROLLERREVISIONS, namespace, name);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    },
    get: (namespace, name) => client.get<ControllerRevision>(CONTROLLERREVISIONS, namespace, name),
  };
}
