import type { Logger } from 'pino';
import type { Clock } from '../rotation/clock';
import type { SvidStore } from '../rotation/svid-store';
import { FileTarget, type FileTargetSpec } from './file-target';

export interface FileTargetsOptions {
  readonly store: SvidStore;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly random?: () => number;
  readonly onWrite?: (result: 'success' | 'failure') => void;
}

/** The `files:` targets in force; a live config reload replaces only the targets that changed. */
export class FileTargets {
  private readonly running = new Map<string, FileTarget>();

  constructor(private readonly options: FileTargetsOptions) {}

  /** Starts new targets, stops removed ones; an unchanged target keeps running untouched. */
  async replace(targets: readonly FileTargetSpec[]): Promise<void> {
    const wanted = new Map(targets.map((target) => [JSON.stringify(target), target]));
    for (const [key, running] of this.running) {
      if (!wanted.has(key)) {
        running.stop();
        this.running.delete(key);
      }
    }
    const started: Promise<void>[] = [];
    for (const [key, target] of wanted) {
      if (this.running.has(key)) continue;
      const fileTarget = new FileTarget({ target, ...this.options });
      this.running.set(key, fileTarget);
      started.push(fileTarget.start());
    }
    await Promise.all(started);
  }

  async settled(): Promise<void> {
    await Promise.all([...this.running.values()].map((target) => target.settled()));
  }

  stop(): void {
    for (const target of this.running.values()) target.stop();
    this.running.clear();
  }
}
