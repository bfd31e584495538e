// The worker thread that runs the control plane's components (see components.ts). It speaks to the
// server's main thread in the messages of components-protocol.ts: its log lines go there to be
// written with the server's own, and /metrics asks it for its metrics.
import { parentPort, workerData } from 'node:worker_threads';
import { setLogLevel, setLogSink } from '../util/log.js';
import { metrics } from '../util/metrics.js';
import { runComponents, type RunningComponents } from './components.js';
import { isToWorker, type FromWorker, type WorkerData } from './components-protocol.js';

const port = parentPort;
if (!port) throw new Error('components-worker runs only as a worker thread');
const post = (m: FromWorker): void => port.postMessage(m);

const data = workerData as WorkerData;
setLogLevel(data.logLevel);
setLogSink((line) => post({ type: 'log', line }));

let running: RunningComponents | undefined;
let stopping = false;

port.on('message', (m: unknown) => {
  if (!isToWorker(m)) return;
  if (m.type === 'metrics') post({ type: 'metrics', id: m.id, families: metrics.families() });
  else if (m.type === 'stop' && !stopping) {
    stopping = true;
    void (running?.stop() ?? Promise.resolve()).finally(() => {
      post({ type: 'stopped' });
      port.close();
    });
  }
});

runComponents(data.config).then(
  (r) => {
    running = r;
    post({ type: 'started' });
  },
  (err: unknown) => post({ type: 'failed', error: err instanceof Error ? err.message : String(err) }),
);
