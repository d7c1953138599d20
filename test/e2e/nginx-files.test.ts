import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chown, mkdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { X509Certificate } from 'node:crypto';
import { MESHID_MAIN } from '../support/meshid-cli';
import { startTestAgent, type Harness } from '../support/agent-harness';
import { FakeClock } from '../support/fake-clock';
import { NginxServer } from '../support/nginx';
import { openssl } from '../support/openssl';
import { makeTempDir } from '../support/temp-dir';
import { needs } from '../support/tools';

const run = promisify(execFile);
const MINUTE = 60_000;

/** curl's HTTP status for one request (0 when the TLS handshake itself failed). */
async function curlStatus(url: string, args: string[]): Promise<number> {
  try {
    const { stdout } = await run('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '10', ...args, url]);
    return Number(stdout);
  } catch (error) {
    return Number((error as { stdout?: string }).stdout ?? 0);
  }
}

/** The serial nginx presents now, read with a real `openssl s_client` handshake. */
async function servedSerial(port: number, dir: string): Promise<string> {
  const { stdout } = await run('sh', ['-c', `openssl s_client -connect 127.0.0.1:${port} -servername localhost </dev/null 2>/dev/null | openssl x509 -noout -serial`], { cwd: dir });
  return stdout.trim().replace(/^serial=/, '').toLowerCase();
}

describe('files targets feed a real nginx doing mTLS, across a rotation', { skip: needs('nginx', 'curl', 'openssl') }, () => {
  // Certificates are minted on the fake clock but checked by nginx and curl on the real one, so
  // the fake clock starts 40 minutes in the past: before and after a 35-minute advance every
  // certificate is valid in real time.
  const clock = new FakeClock(Date.now() - 40 * MINUTE);
  let harness: Harness;
  let nginx: NginxServer;
  let files: { certFile: string; keyFile: string; bundleFile: string };
  let clientDir: string;

  before(async () => {
    const dir = await makeTempDir('meshid-nginx-');
    files = { certFile: path.join(dir, 'nginx', 'chain.pem'), keyFile: path.join(dir, 'nginx', 'key.pem'), bundleFile: path.join(dir, 'nginx', 'bundle.pem') };
    const target = { spiffeId: 'spiffe://example.org/nginx', dnsNames: ['localhost'], ...files };
    // nginx needs the files to start, and the agent needs nginx's reload command: a first agent
    // writes the files, then the agent under test (same upstream root) runs with afterWrite.
    const first = await startTestAgent({ svid: { ttl: '1h' }, files: [target] }, clock);
    await first.agent.settled(); // the files land after start, not within it
    await first.agent.stop();
    nginx = await NginxServer.start(dir, files);
    harness = await startTestAgent(
      {
        dataDir: path.join(first.dir, 'data'),
        svid: { ttl: '1h' },
        entries: [{ spiffeId: 'spiffe://example.org/client', selectors: ['unix:uid:1000'] }],
        files: [{ ...target, afterWrite: nginx.reloadCommand }],
      },
      clock,
    );
    await harness.agent.settled();
    // A client SVID fetched from meshid by a real workload under uid 1000.
    clientDir = path.join(harness.dir, 'client');
    await mkdir(clientDir);
    await chown(clientDir, 1000, 1000);
    await run(process.execPath, [MESHID_MAIN, 'api', 'fetch', 'x509', '--socket', harness.socketPath, '--write', clientDir], { uid: 1000, gid: 1000 });
  });

  after(async () => {
    await nginx?.stop();
    await harness?.agent.stop();
  });

  it('writes the chain, a 0600 key and the bundle; openssl verifies the chain', async () => {
    assert.equal((await stat(files.keyFile)).mode & 0o777, 0o600);
    const chain = await readFile(files.certFile, 'utf8');
    assert.equal(chain.match(/BEGIN CERTIFICATE/g)?.length, 2, 'leaf then node intermediate');
    assert.match(new X509Certificate(chain).subjectAltName ?? '', /URI:spiffe:\/\/example\.org\/nginx/);
    const verify = await openssl(['verify', '-CAfile', files.bundleFile, '-untrusted', files.certFile, files.certFile]);
    assert.ok(verify.ok, verify.output);
  });

  it('answers 200 to a client presenting its meshid SVID and refuses one without', async () => {
    const url = `https://localhost:${nginx.port}/`;
    const withSvid = ['--cacert', files.bundleFile, '--cert', path.join(clientDir, 'svid.0.pem'), '--key', path.join(clientDir, 'svid.0.key')];
    assert.equal(await curlStatus(url, withSvid), 200);
    assert.equal(await curlStatus(url, ['--cacert', files.bundleFile]), 400, 'nginx answers 400 "No required SSL certificate was sent"');
  });

  it('after a rotation nginx serves the new certificate and no request fails meanwhile', async () => {
    const url = `https://localhost:${nginx.port}/`;
    const withSvid = ['--cacert', files.bundleFile, '--cert', path.join(clientDir, 'svid.0.pem'), '--key', path.join(clientDir, 'svid.0.key')];
    const before = await servedSerial(nginx.port, harness.dir);
    const onDisk = new X509Certificate(await readFile(files.certFile)).serialNumber.toLowerCase();
    assert.equal(before, onDisk);

    let rotated = false;
    const statuses: number[] = [];
    const traffic = (async () => {
      while (!rotated) statuses.push(await curlStatus(url, withSvid));
    })();

    let newOnDisk: string;
    let after = before;
    try {
      await clock.advance(35 * MINUTE); // past half-life (30 min ± 10 %): the nginx SVID is re-minted
      // The re-mint the timer started, and the file writes it schedules, are over once settled.
      await harness.agent.settled();
      newOnDisk = new X509Certificate(await readFile(files.certFile)).serialNumber.toLowerCase();
      // Bounded re-reads for the positive only: on a loaded 2-core CI runner the rewrite has been
      // seen to land just after settled() (issue 15 follow-up: find which step settled() misses).
      for (let attempt = 0; attempt < 50 && newOnDisk === onDisk; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        newOnDisk = new X509Certificate(await readFile(files.certFile)).serialNumber.toLowerCase();
      }
      assert.notEqual(newOnDisk, onDisk, 'the files were rewritten with a new certificate');
      // nginx -s reload is asynchronous: the new workers take over shortly after the signal, and
      // nginx offers nothing to wait on, so its handshakes are polled (bounded; not a timing check).
      for (let attempt = 0; attempt < 100 && after !== newOnDisk; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        after = await servedSerial(nginx.port, harness.dir);
      }
      // A few more requests against the new workers, then stop the traffic.
      for (let i = 0; i < 3; i++) statuses.push(await curlStatus(url, withSvid));
    } finally {
      rotated = true;
      await traffic;
    }
    assert.equal(after, newOnDisk, 'nginx serves the rotated certificate');
    assert.ok(statuses.length >= 4);
    assert.deepEqual(statuses.filter((code) => code !== 200), [], `every request succeeded (${statuses.length} made)`);
  });
});
