import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ConfigError } from '../../src/agent/config/config-error';
import { parseConfig } from '../../src/agent/config/load';
import { startTestAgent, type Harness } from '../support/agent-harness';
import { capturedLogger } from '../support/captured-logger';
import { removeTempDirs } from '../support/temp-dir';

after(removeTempDirs);
const ENDPOINTS = ['/live', '/ready', '/metrics', '/debug/svids', '/ca/rotation'];

/** A GET to the admin server at `address` that sends `host` as its Host header. */
function getWithHost(address: string, pathname: string, host: string): Promise<number> {
  const { hostname, port } = new URL(`http://${address}`);
  return new Promise((resolve, reject) => {
    const request = http.get({ host: hostname.replace(/^\[|\]$/g, ''), port, path: pathname, agent: false, headers: { host } }, (response) => {
      response.resume();
      response.once('end', () => resolve(response.statusCode ?? 0));
    });
    request.once('error', reject);
  });
}

/** HTTP/1.0 without a Host header, written by hand (Node's client always sends one). */
function getWithoutHost(address: string, pathname: string): Promise<string> {
  const { hostname, port } = new URL(`http://${address}`);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname, () => socket.write(`GET ${pathname} HTTP/1.0\r\n\r\n`));
    let text = '';
    socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
    socket.once('end', () => resolve(text.split('\r\n')[0] ?? ''));
    socket.once('error', reject);
  });
}

describe('admin HTTP checks Host on every endpoint (issue 14, finding 12)', () => {
  let harness: Harness;
  let address: string;
  before(async () => {
    harness = await startTestAgent({});
    address = harness.agent.adminAddress ?? '';
  });
  after(() => harness?.agent.stop());

  it('refuses a DNS-rebound name on every endpoint with 403', async () => {
    for (const pathname of ENDPOINTS) {
      for (const host of ['attacker.example', `attacker.example:${new URL(`http://${address}`).port}`, 'localhost.attacker.example', '127.0.0.1.nip.io']) {
        assert.equal(await getWithHost(address, pathname, host), 403, `${pathname} with Host: ${host}`);
      }
    }
    assert.match(await getWithoutHost(address, '/metrics'), /^HTTP\/1\.[01] 403/);
  });

  it('answers loopback names and addresses', async () => {
    const port = new URL(`http://${address}`).port;
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, 'localhost', `[::1]:${port}`, '127.0.0.2', `LOCALHOST:${port}`]) {
      assert.equal(await getWithHost(address, '/live', host), 200, `Host: ${host}`);
    }
    assert.equal(await getWithHost(address, '/debug/svids', `127.0.0.1:${port}`), 200);
  });

  it('refuses other IP literals while listening on loopback', async () => {
    assert.equal(await getWithHost(address, '/metrics', '10.1.2.3:8088'), 403);
  });
});

describe('admin.allowRemote (issue 14, finding 12)', () => {
  const base = { trustDomain: 'example.org', dataDir: '/tmp/meshid-unused' };
  const problems = (admin: Record<string, unknown>): string[] => {
    try {
      parseConfig({ ...base, admin }, { baseDir: '/tmp' });
      return [];
    } catch (error) {
      assert.ok(error instanceof ConfigError, String(error));
      return error.problems;
    }
  };

  it('a non-loopback admin.listen is refused without admin.allowRemote: true, naming what it would expose', () => {
    for (const listen of ['0.0.0.0:8088', '10.0.0.5:8088', '[::]:8088']) {
      const found = problems({ listen });
      assert.equal(found.length, 1, found.join('\n'));
      assert.match(found[0] ?? '', /^admin\.listen: .*not a loopback address.*\/metrics.*\/debug\/svids.*admin\.allowRemote: true/);
    }
    assert.deepEqual(problems({ listen: '0.0.0.0:8088', allowRemote: true }), []);
    assert.deepEqual(problems({ listen: '0.0.0.0:8088', enabled: false }), [], 'a disabled admin server exposes nothing');
    for (const listen of ['127.0.0.1:8088', 'localhost:8088', '[::1]:8088', '127.0.0.9:1']) assert.deepEqual(problems({ listen }), [], listen);
    assert.match(problems({ allowRemote: 'yes' }).join('\n'), /admin\.allowRemote: must be true or false/);
  });

  it('with allowRemote the agent warns what it exposes, and IP literals are answered but names still refused', async () => {
    const { logger, records } = capturedLogger();
    const harness = await startTestAgent({ admin: { listen: '0.0.0.0:0', allowRemote: true } }, undefined, { logger });
    try {
      const warning = records.find((record) => record.level === 40 && /admin\.allowRemote/.test(record.msg));
      assert.ok(warning, 'a warning is logged');
      assert.match(warning.msg, /\/metrics.*\/debug\/svids.*\/ca\/rotation/);
      const port = (harness.agent.adminAddress ?? '').split(':').at(-1) ?? '';
      const address = `127.0.0.1:${port}`;
      assert.equal(await getWithHost(address, '/metrics', `10.1.2.3:${port}`), 200, 'a scraper addressing the node by IP');
      assert.equal(await getWithHost(address, '/metrics', `[fd00::1]:${port}`), 200);
      assert.equal(await getWithHost(address, '/debug/svids', `node.attacker.example:${port}`), 403);
    } finally {
      await harness.agent.stop();
    }
  });
});
