import { Command, Option } from '@commander-js/extra-typings';
import type { RootSummary, RotationStatus } from '../rotation/root-rotation-status';
import { DEFAULT_ADMIN_LISTEN } from '../agent/config/schema';
import { outputOption, type OutputFormat } from './cli-options';
import { exitWith } from './usage-error';

export function caRotateCommand() {
  return new Command('rotate')
    .summary('rotate the upstream CA (root) make-before-break')
    .description(
      `Asks the agent on this node (its admin HTTP) to rotate the upstream CA, make-before-break: bundles carry the old and new roots first, signing switches once they have propagated, and the old roots leave the bundles when the last SVID under them expires. Self-signed upstream: a new root is made. Disk: the files are read again. PKCS#11: certFile is read again and the key opened again under its label. Prints the rotation status; exit 0 when a rotation started, 1 when it was refused (one in progress, nothing new, invalid new CA).`,
    )
    .addOption(adminOption())
    .addOption(outputOption())
    .action(async (options) => exitWith(await call(options, 'POST', '/ca/rotate')));
}

export function caStatusCommand() {
  return new Command('status')
    .summary('show the root rotation phase')
    .description(
      `Prints the root rotation status of the agent on this node: the phase (idle, publishing, switched), the roots involved and what the next step waits for.`,
    )
    .addOption(adminOption())
    .addOption(outputOption())
    .action(async (options) => exitWith(await call(options, 'GET', '/ca/rotation')));
}

const adminOption = () => new Option('--admin <host:port>', "the agent's admin HTTP address").default(DEFAULT_ADMIN_LISTEN);

async function call({ admin, output }: { admin: string; output: OutputFormat }, method: 'GET' | 'POST', pathname: string): Promise<number> {
  let response: Response;
  try {
    response = await fetch(`http://${admin}${pathname}`, { method, ...(method === 'POST' ? { headers: { 'content-type': 'application/json' }, body: '{}' } : {}), signal: AbortSignal.timeout(30_000) });
  } catch (error) {
    console.error(`meshid: no agent admin server reachable at ${admin} (${(error as Error).cause instanceof Error ? ((error as Error).cause as Error).message : (error as Error).message}); is the agent running, with admin enabled?`);
    return 1;
  }
  const body = (await response.json().catch(() => ({}))) as RotationStatus & { error?: string };
  if (!response.ok) {
    console.error(`meshid: ${method === 'POST' ? 'rotation refused' : 'status unavailable'} (HTTP ${response.status}): ${body.error ?? 'no reason given'}`);
    return 1;
  }
  print(body, method === 'POST', output);
  return 0;
}

function print(status: RotationStatus, started: boolean, output: OutputFormat): void {
  if (output === 'json') {
    console.log(JSON.stringify(status));
    return;
  }
  const lines = [
    ...(started ? ['root rotation started'] : []),
    `phase:            ${status.phase} (since ${status.phaseSince})`,
    `bundle version:   ${status.bundleVersion}`,
    `rotations done:   ${status.completedRotations}`,
    ...(status.trigger ? [`trigger:          ${status.trigger} at ${status.startedAt ?? '?'}`] : []),
    ...roots('old roots', status.oldRoots),
    ...roots('new roots', status.newRoots),
    ...(status.switchNotBefore ? [`switch:           not before ${status.switchNotBefore}, at the latest ${status.switchDeadline ?? '?'}`] : []),
    ...(status.waitingForAcks?.length ? [`waiting for ACKs: ${status.waitingForAcks.join('; ')}`] : []),
    ...(status.dropAt ? [`old roots drop:   ${status.dropAt}`] : []),
    ...(status.lastError ? [`last error:       ${status.lastError}`] : []),
  ];
  console.log(lines.join('\n'));
}

function roots(title: string, summaries: readonly RootSummary[] | undefined): string[] {
  return (summaries ?? []).map((root, index) => `${index === 0 ? `${title}:`.padEnd(18) : ' '.repeat(18)}${root.subject} (sha256 ${root.sha256.slice(0, 23)}…, until ${root.notAfter})`);
}
