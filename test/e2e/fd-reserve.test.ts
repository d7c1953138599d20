import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { MESHID_MAIN } from '../support/meshid-cli';
import { makeTempDir, removeTempDirs } from '../support/temp-dir';
import { until } from '../support/until';
import { assertReadableBy, clientDependencies, fetchAs, NOT_ROOT } from '../support/workload-process';

const HOLD_CONNECTIONS = path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'floods', 'hold-connections.py');
/** Low enough that one uid's connections reach it long before its per-uid cap (1,024). */
const FD_LIMIT = 160;

function live(address: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.get(`http://${address}/live`, { agent: false }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.once('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.once('error', reject);
  });
}

describe(`fd reserve and /live under a ${FD_LIMIT}-fd limit (issue 14, "Connection hygiene")`, { skip: NOT_ROOT }, () => {
  let agent: ChildProcess;
  let socketPath: string;
  let adminAddress = '';
  let output = '';
  before(async () => {
    await assertReadableBy(1301, [HOLD_CONNECTIONS]);
    await assertReadableBy(1300, clientDependencies());
    const dir = await makeTempDir('meshid-fd-reserve-');
    socketPath = path.join(dir, 'agent.sock');
    const config = path.join(dir, 'meshid.yaml');
    await writeFile(config, `trustDomain: example.org\ndataDir: ${dir}/data\nsocketPath: ${socketPath}\nadmin: { listen: "127.0.0.1:0" }\nentries:\n  - spiffeId: spiffe://example.org/bystander\n    selectors: ["unix:uid:1300"]\n`);
    // prlimit execs the agent, so the limit is the agent's own (as LimitNOFILE= in a unit).
    agent = spawn('/usr/bin/prlimit', [`--nofile=${FD_LIMIT}:${FD_LIMIT}`, '--', process.execPath, MESHID_MAIN, 'run', '--config', config], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    agent.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    agent.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await until(() => output.includes('meshid agent serving') || agent.exitCode !== null, 'the agent to serve', 30_000);
    const line = output.split('\n').find((entry) => entry.includes('meshid agent serving')) ?? '';
    adminAddress = (JSON.parse(line) as { admin: string }).admin;
  });
  after(async () => {
    if (agent && agent.exitCode === null) {
      const gone = new Promise((resolve) => agent.once('exit', resolve));
      agent.kill('SIGKILL');
      await gone;
    }
    await removeTempDirs();
  });

  test('a flood from another uid makes /live fail instead of starving the agent; it recovers when the flood ends, and a bystander is served', async () => {
    assert.equal((await live(adminAddress)).status, 200);
    const attacker = spawn('/usr/bin/python3', [HOLD_CONNECTIONS, socketPath, String(FD_LIMIT)], { uid: 1301, gid: 1301, stdio: ['pipe', 'pipe', 'inherit'] });
    try {
      const line = await new Promise<string>((resolve, reject) => {
        attacker.stdout?.once('data', (data: Buffer) => resolve(data.toString()));
        attacker.once('exit', (code) => reject(new Error(`attacker exited ${String(code)}`)));
      });
      const { answered, refused } = JSON.parse(line) as { answered: number; refused: number };
      // Refused at once (closed at accept), not left hanging: the python client waits 10 s per connect otherwise.
      assert.ok(refused > 0 && answered < FD_LIMIT / 2, line);
      const during = await live(adminAddress);
      assert.equal(during.status, 503, `the admin server still answers, and says the agent cannot accept: ${during.body}`);
      assert.match(during.body, /open file limit 160/);
      assert.equal(agent.exitCode, null, 'the agent did not crash');
    } finally {
      attacker.stdin?.end();
      await new Promise((resolve) => (attacker.exitCode !== null ? resolve(undefined) : attacker.once('exit', resolve)));
    }
    // Bounded wait: the agent rechecks every second once the attacker's connections are gone.
    const deadline = Date.now() + 15_000;
    while ((await live(adminAddress)).status !== 200) {
      assert.ok(Date.now() < deadline, `/live did not recover within 15 s:\n${output.slice(-2000)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const fetched = await fetchAs(1300, socketPath);
    assert.deepEqual(fetched.svids?.map((svid) => svid.spiffeId), ['spiffe://example.org/bystander'], JSON.stringify(fetched).slice(0, 300));
    assert.match(output, /cannot accept connections: out of file descriptors/);
    assert.match(output, /accepting connections again/);
  });
});
