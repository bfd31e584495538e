import { runStoreConformance } from '../conformance.js';
import { MemoryStore } from './memory-store.js';

runStoreConformance('memory', () => Promise.resolve(new MemoryStore()), {
  openWatches: (s) => (s as MemoryStore).openWatches,
});
