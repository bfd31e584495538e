// kubectl caches discovery per server host:port under ~/.kube/cache; test servers come and go on
// reused ports, so one test's CRDs would haunt the next. Importing this gives the process (and the
// kubectl it spawns) a discovery cache of its own.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

process.env.KUBECACHEDIR = mkdtempSync(join(tmpdir(), 'k8ts-kubectl-cache-'));
