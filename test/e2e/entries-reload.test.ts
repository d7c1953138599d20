import assert from 'node:assert/strict';
import { rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { status, type ServiceError } from '@grpc/grpc-js';
import { startTestAgent } from '../support/agent-harness';
import { AgentProcesses } from '../support/meshid-cli';
import { makeTempDir, removeTempDirs } from '../support/temp-dir';
import { securityHeader, StreamReader, workloadClient, type X509SvidResponse } from '../support/workload-client';
import { scrapeMetric } from '../support/prometheus';

after(removeTempDirs);

/** Saves like vim or a ConfigMap update: a new file renamed over the old one (a new inode). */
async function saveByRename(file: string, text: string): Promise<void> {
  const temp = `${file}.swp`;
  await writeFile(temp, text);
  await rename(temp, file);
}

const ids = (message: X509SvidResponse): string[] => message.svids.map((svid) => svid.spiffe_id);
const entryFor = (id: string, selector = 'unix:uid:0'): string => `- spiffeId: spiffe://example.org/${id}\n  selectors: ["${selector}"]\n`;

describe('a watched entries file', () => {
  it('applies edits to open streams, keeps the last good entries when invalid, and ends streams that lose every identity', async () => {
    const dir = await makeTempDir('meshid-entries-');
    const file = path.join(dir, 'entries.yaml');
    await writeFile(file, entryFor('first'));
    const harness = await startTestAgent({ entriesFile: file });
    const stream = new StreamReader(workloadClient(harness.socketPath).FetchX509SVID({}, securityHeader()));
    try {
      assert.deepEqual(ids(await stream.next(30_000)), ['spiffe://example.org/first']);

      const savedAt = Date.now();
      await saveByRename(file, entryFor('second') + entryFor('first'));
      assert.deepEqual(ids(await stream.next(30_000)), ['spiffe://example.org/second', 'spiffe://example.org/first']);
      console.log(`# entries edit reached the open stream after ${Date.now() - savedAt} ms`);

      await saveByRename(file, `${entryFor('third')}- spiffeId: spiffe://example.org/x\n  selectors: ["unix:uid:not-a-number"]\n`);
      for (let attempt = 0; attempt < 100 && (await scrapeMetric(harness.agent.adminAddress, 'meshid_entries_file_valid')) !== 0; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.equal(await scrapeMetric(harness.agent.adminAddress, 'meshid_entries_file_valid'), 0, 'an invalid file shows in the metric');
      assert.equal(await scrapeMetric(harness.agent.adminAddress, 'meshid_entries_reloads_total{result="invalid"}'), 1);

      // The invalid file changed nothing: the next message is the next valid edit's.
      await saveByRename(file, entryFor('fourth'));
      assert.deepEqual(ids(await stream.next(30_000)), ['spiffe://example.org/fourth']);
      assert.equal(await scrapeMetric(harness.agent.adminAddress, 'meshid_entries_file_valid'), 1);

      await saveByRename(file, entryFor('other', 'unix:uid:4242'));
      await assert.rejects(stream.next(30_000), (error: ServiceError) => {
        assert.equal(error.code, status.PERMISSION_DENIED);
        assert.match(error.details, /no identity issued/);
        return true;
      });
    } finally {
      stream.call.cancel();
      await harness.agent.stop();
    }
  });

  it('a template entry gives each workload an ID rendered from its own selectors', async () => {
    const dir = await makeTempDir('meshid-entries-');
    const file = path.join(dir, 'entries.yaml');
    await writeFile(file, '- spiffeIdTemplate: "spiffe://{{trustDomain}}/uid/{{unix.uid}}/user/{{unix.user}}"\n  selectors: ["unix:uid:*"]\n');
    const harness = await startTestAgent({ entriesFile: file });
    const stream = new StreamReader(workloadClient(harness.socketPath).FetchX509SVID({}, securityHeader()));
    try {
      assert.deepEqual(ids(await stream.next(30_000)), ['spiffe://example.org/uid/0/user/root']);
    } finally {
      stream.call.cancel();
      await harness.agent.stop();
    }
  });

  it('an invalid entries file at start is a configuration error', async () => {
    const dir = await makeTempDir('meshid-entries-');
    const file = path.join(dir, 'entries.yaml');
    await writeFile(file, '- spiffeId: spiffe://other.org/x\n  selectors: ["unix:uid:0"]\n');
    await assert.rejects(startTestAgent({ entriesFile: file }), (error: Error & { problems?: string[] }) => {
      assert.deepEqual(error.problems, [`${file}: [0].spiffeId: "spiffe://other.org/x" is not in trust domain "example.org"`]);
      return true;
    });
  });
});

describe('live reload of the config file (meshid run)', () => {
  it('applies entries at once, refuses an invalid file, and reports keys that need a restart', async () => {
    const dir = await makeTempDir('meshid-reload-');
    const socketPath = path.join(dir, 'agent.sock');
    const configFile = path.join(dir, 'meshid.yaml');
    const config = (id: string, extra = ''): string =>
      `trustDomain: example.org\ndataDir: ${dir}/data\nsocketPath: ${socketPath}\nadmin: { listen: "127.0.0.1:0" }\n${extra}entries:\n  - spiffeId: spiffe://example.org/${id}\n    selectors: [unix:uid:0]\n`;
    await writeFile(configFile, config('before'));
    const agents = new AgentProcesses();
    try {
      const child = await agents.start(configFile, socketPath, dir);
      let log = '';
      child.stdout?.on('data', (chunk: Buffer) => (log += chunk.toString()));
      const waitForLog = async (pattern: RegExp): Promise<void> => {
        for (let attempt = 0; attempt < 600 && !pattern.test(log); attempt++) await new Promise((resolve) => setTimeout(resolve, 50));
        assert.match(log, pattern);
      };
      const stream = new StreamReader(workloadClient(socketPath).FetchX509SVID({}, securityHeader()));
      assert.deepEqual(ids(await stream.next(30_000)), ['spiffe://example.org/before']);

      await saveByRename(configFile, config('after'));
      assert.deepEqual(ids(await stream.next(30_000)), ['spiffe://example.org/after']);
      await waitForLog(/"applied":\["entries"\]/);

      await saveByRename(configFile, config('after', 'svid: { ttl: 1s }\n'));
      await waitForLog(/configuration change refused/);
      assert.match(log, /svid\.ttl: \\"1s\\" is below the 10s minimum/);

      await saveByRename(configFile, config('after', 'svid: { keyType: ec-p384 }\nlogLevel: debug\n'));
      await waitForLog(/"keys":\["svid"\],"msg":"configuration change needs a restart/);
      stream.call.cancel();
    } finally {
      await agents.stopAll();
    }
  });
});

describe('an entry edit that changes only the hint', () => {
  it('reaches the open stream (the SVID is the same, the message is not)', async () => {
    const dir = await makeTempDir('meshid-entries-');
    const file = path.join(dir, 'entries.yaml');
    await writeFile(file, `${entryFor('web')}  hint: internal\n`);
    const harness = await startTestAgent({ entriesFile: file });
    const stream = new StreamReader(workloadClient(harness.socketPath).FetchX509SVID({}, securityHeader()));
    try {
      const first = await stream.next(30_000);
      assert.equal(first.svids[0]?.hint, 'internal');
      await saveByRename(file, `${entryFor('web')}  hint: external\n`);
      const second = await stream.next(30_000);
      assert.equal(second.svids[0]?.hint, 'external');
      assert.deepEqual(second.svids[0]?.x509_svid, first.svids[0]?.x509_svid, 'same certificate');
    } finally {
      stream.call.cancel();
      await harness.agent.stop();
    }
  });
});
