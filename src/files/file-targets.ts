import type { Logger } from 'pino';
import type { FileTargetConfig } from './file-target-config';
import type { Clock } from '../common/clock';
import { MeshidError } from '../common/errors';
import type { SvidSource } from '../serving/svid-source';
import { FileTarget } from './file-target';
import { fileTargetLayoutProblems } from './file-target-layout';

export interface FileTargetsOptions {
  readonly store: SvidSource;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly random?: () => number;
  readonly onWrite?: (result: 'success' | 'failure') => void;
  /**
   * Hold the writes of started targets until `resume()`: the agent checks the targets before it
   * serves but writes them after, so minting and writing N sets does not compete with the
   * first workloads' requests at start.
   */
  readonly startPaused?: boolean;
}

/** The `files:` targets in force; a live config reload replaces only the targets that changed. */
export class FileTargets {
  private readonly running = new Map<string, FileTarget>();
  private resumeWrites: () => void = () => undefined;
  private readonly resumed: Promise<void>;

  constructor(private readonly options: FileTargetsOptions) {
    this.resumed = options.startPaused ? new Promise((resolve) => (this.resumeWrites = resolve)) : Promise.resolve();
  }

  /** Lets the writes of a `startPaused` instance begin. */
  resume(): void {
    this.resumeWrites();
  }

  /**
   * Starts new targets, stops removed ones; an unchanged target keeps running untouched.
   * Checks the layout and every new target's directory first, and throws INVALID_CONFIG (nothing
   * replaced) if one is refused. Does not wait for the writes, let alone afterWrite: the agent
   * serves while they land (`settled()` waits for them).
   */
  async replace(targets: readonly FileTargetConfig[]): Promise<void> {
    const problems = fileTargetLayoutProblems(targets);
    if (problems.length > 0) throw new MeshidError('INVALID_CONFIG', `files: ${problems.join('; ')}`);
    const wanted = new Map(targets.map((target) => [JSON.stringify(target), target]));
    const added = [...wanted].filter(([key]) => !this.running.has(key)).map(([key, target]) => [key, new FileTarget({ target, ...this.options })] as const);
    for (const [, fileTarget] of added) await fileTarget.prepare();
    for (const [key, running] of this.running) {
      if (!wanted.has(key)) {
        running.stop();
        this.running.delete(key);
      }
    }
    for (const [key, fileTarget] of added) {
      this.running.set(key, fileTarget);
      // Never rejects: a failed write is logged and retried.
      void this.resumed.then(() => (this.running.get(key) === fileTarget ? fileTarget.start() : undefined));
    }
  }

  async settled(): Promise<void> {
    await this.resumed;
    await Promise.all([...this.running.values()].map((target) => target.settled()));
  }

  stop(): void {
    for (const target of this.running.values()) target.stop();
    this.running.clear();
  }
}
