/**
 * A workload that connects to the agent and hands the connected socket to a child process, which
 * makes the Workload API call on it (test/support/inherited-socket-caller-main.ts). The kernel's
 * peer credentials name this process, the connector, so the agent attests it, not the caller.
 * The caller sends its result to REPORT_SOCKET.
 *   node handoff-connector-main.js SOCKET REPORT_SOCKET wait   stay alive until the caller is done
 *   node handoff-connector-main.js SOCKET REPORT_SOCKET exit   exit at once; the caller reports
 *                                                              its pid and calls on SIGUSR2
 */
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';

const [socketPath = '', reportSocket = '', mode = 'wait'] = process.argv.slice(2);
const socket = net.connect(socketPath);
// The caller reads this connection; this process must not take any of its bytes.
socket.pause();
socket.once('error', (error) => {
  process.stderr.write(`connector: ${error.message}\n`);
  process.exit(3);
});
socket.once('connect', () => {
  const callerMode = mode === 'exit' ? 'on-signal' : 'now';
  // Not sharing this process's stdio: a pipe end shared with a process that exits can be shut
  // down under the survivor.
  const caller = spawn(process.execPath, [path.join(__dirname, 'inherited-socket-caller-main.js'), reportSocket, callerMode], {
    stdio: ['ignore', 'ignore', 'inherit', socket],
  });
  if (mode === 'exit') caller.once('spawn', () => process.exit(0));
  else caller.once('exit', (code) => process.exit(code ?? 1));
});
