/**
 * Jest global teardown: stops the shared Kubernetes bench of global-setup.ts (kills its processes,
 * removes its directory). Were this skipped, the bench's children still die with this process
 * (pdeathsig) and the next run's global setup removes the directory.
 */
import type { KubeBench } from './lib/kube-bench';

export default async function globalTeardown(): Promise<void> {
  // Set by global-setup.ts, which runs in this same process.
  const holder = globalThis as { stratumSharedKubeBench?: KubeBench };
  const bench = holder.stratumSharedKubeBench;
  holder.stratumSharedKubeBench = undefined;
  await bench?.stop();
}
