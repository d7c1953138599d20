import { execFile, spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

/**
 * The compiled CLI, run as a black box. MESHID_MAIN points the CLI tests at another build, so
 * the same contract test can run against the CLI before and after a change.
 */
export const MESHID_MAIN = process.env.MESHID_MAIN ?? path.join(__dirname, '..', '..', 'src', 'cli', 'main.js');

const run = promisify(execFile);
/** Bounds a hung CLI so a broken agent fails the test instead of stalling the run. */
const CLI_TIMEOUT_MS = 30_000;

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `meshid ARGS` to completion; never throws, so tests assert on the exit code. */
export async function meshid(args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<CliResult> {
  try {
    const { stdout, stderr } = await run(process.execPath, [MESHID_MAIN, ...args], { ...options, timeout: CLI_TIMEOUT_MS });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failure = error as { code?: number | string; stdout?: string; stderr?: string; killed?: boolean };
    return { code: typeof failure.code === 'number' ? failure.code : null, stdout: failure.stdout ?? '', stderr: `${failure.stderr ?? ''}${failure.killed ? '\n[killed: no exit within the bound]' : ''}` };
  }
}

/** `meshid run` processes started by a test file; stop them all in an `after` hook. */
export class AgentProcesses {
  private readonly children: ChildProcess[] = [];

  /**
   * Starts `meshid run --config FILE` and resolves once a JSON log line on stdout names
   * `socketPath` (the contract's start-up line); rejects if the process exits first.
   */
  start(configFile: string, socketPath: string, cwd: string): Promise<ChildProcess> {
    const child = spawn(process.execPath, [MESHID_MAIN, 'run', '--config', configFile], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    this.children.push(child);
    return new Promise((resolve, reject) => {
      let output = '';
      let pending = '';
      const bound = setTimeout(() => reject(new Error(`agent did not log its socket path within 20 s:\n${output}`)), 20_000);
      child.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        pending += chunk.toString();
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        if (lines.some((line) => isJsonNaming(line, socketPath))) {
          clearTimeout(bound);
          resolve(child);
        }
      });
      child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.on('exit', (code, signal) => {
        clearTimeout(bound);
        reject(new Error(`agent exited (${code ?? signal}) before serving:\n${output}`));
      });
    });
  }

  /** Kills every agent still running and waits for each to be gone. */
  async stopAll(): Promise<void> {
    await Promise.all(
      this.children.splice(0).map(async (child) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const gone = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGKILL');
        await gone;
      }),
    );
  }
}

function isJsonNaming(line: string, socketPath: string): boolean {
  try {
    const parsed = JSON.parse(line) as unknown;
    return typeof parsed === 'object' && parsed !== null && line.includes(socketPath);
  } catch {
    return false;
  }
}
