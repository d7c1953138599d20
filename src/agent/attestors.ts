import type { Clock } from '../rotation/clock';
import type { WorkloadAttestor } from '../workload/attestors/workload-attestor';
import { UnixAttestor } from '../workload/attestors/unix-attestor';
import type { AgentConfig } from './config/agent-config';

/** The attestors the config enables; unix always runs (it needs nothing but /proc). */
export function createAttestors(config: AgentConfig, procRoot: string, _clock: Clock): WorkloadAttestor[] {
  const attestors: WorkloadAttestor[] = [new UnixAttestor({ procRoot })];
  return attestors;
}
