import type { Log } from '@stratum/telemetry';

/**
 * The crash-resume tests' fault hook, never for production (STRATUM_FAULT_KILL_AFTER_STEP): a step
 * callback that kills the process (SIGKILL, no cleanup) right after the first step whose name ends
 * with `suffix`. Undefined when no suffix is configured; announced loudly in the log when one is.
 */
export function faultKillHook(log: Log, suffix: string | undefined): ((step: string) => void) | undefined {
  if (!suffix) return undefined;
  log.warn(
    'TEST FAULT HOOK ENABLED: this process kills itself after a step (STRATUM_FAULT_KILL_AFTER_STEP)',
    {
      killAfter: suffix,
    },
  );
  return (step) => {
    if (!step.endsWith(suffix)) return;
    log.warn('test fault hook: killing the process', { step });
    process.kill(process.pid, 'SIGKILL');
  };
}
