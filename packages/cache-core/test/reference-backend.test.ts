import { runConformanceSuite } from '../src/conformance/index.js';
import { ReferenceBackend } from '../src/reference-backend.js';

const store = new Map<string, string>();
runConformanceSuite('reference', { createBackend: ({ namespace }) => new ReferenceBackend({ store, namespace }), shared: true, staleIfError: true });

const leaseStore = new Map<string, string>();
runConformanceSuite('reference with leases', {
  createBackend: ({ namespace }) => new ReferenceBackend({ store: leaseStore, namespace, leases: true }),
  shared: true,
  leases: true,
  staleIfError: true,
});
