import assert from 'node:assert/strict';
import { access, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { status, type ServiceError } from '@grpc/grpc-js';
import { startTestAgent, type Harness } from '../support/agent-harness';
import { AgentProcesses } from '../support/meshid-cli';
import { metricValue } from '../support/prometheus';
import { makeTempDir, removeTempDirs } from '../support/temp-dir';
import { securityHeader, StreamReader, workloadClient, type X509SvidResponse } from '../support/workload-client';

after(removeTempDirs);
const ROOT_ENTRY = { spiffeId: 'spiffe://example.org/root-process', selectors: ['unix:uid:0'] };

async function get(address: string, pathname: string): Promise<{ status: number; type: string; body: string }> {
  const response = await fetch(`http://${address}${pathname}`);
  return { status: response.status, type: response.headers.get('content-type') ?? '', body: await response.text() };
}

describe('admin HTTP: probes, Prometheus metrics, /debug/svids', () => {
  let harness: Harness;
  let address: string;
  let stream: StreamReader<X509SvidResponse>;
  before(async () => {
    harness = await startTestAgent({ entries: [ROOT_ENTRY] });
    address = harness.agent.adminAddress ?? '';
    assert.match(address, /^127\.0\.0\.1:\d+$/, 'loopback unless configured otherwise');
    stream = new StreamReader(workloadClient(harness.socketPath).FetchX509SVID({}, securityHeader()));
    await stream.next();
  });
  after(async () => {
    stream?.call.cancel();
    await harness?.agent.stop();
  });

  it('/live and /ready answer 200 with a short JSON body', async () => {
    assert.deepEqual(await get(address, '/live'), { status: 200, type: 'application/json', body: '{\n  "status": "live"\n}\n' });
    const ready = await get(address, '/ready');
    assert.equal(ready.status, 200);
    assert.deepEqual(JSON.parse(ready.body), { status: 'ready' });
    assert.equal((await get(address, '/nope')).status, 404);
  });

  it('/metrics speaks the Prometheus text format with the agent and Node default metrics', async () => {
    const metrics = await get(address, '/metrics');
    assert.equal(metrics.status, 200);
    assert.match(metrics.type, /^text\/plain; version=0\.0\.4/);
    const text = metrics.body;
    assert.equal(metricValue(text, 'meshid_svids_held'), 1);
    assert.equal(metricValue(text, 'meshid_svids_issued_total{kind="first"}'), 1);
    assert.equal(metricValue(text, 'meshid_open_streams{api="workload_x509_svid"}'), 1);
    assert.equal(metricValue(text, 'meshid_attestations_total{attestor="unix",result="success"}'), 1);
    const now = Date.now() / 1000;
    const svidExpiry = metricValue(text, 'meshid_svid_earliest_expiry_timestamp_seconds') ?? 0;
    const caExpiry = metricValue(text, 'meshid_ca_intermediate_expiry_timestamp_seconds') ?? 0;
    const rootExpiry = metricValue(text, 'meshid_ca_root_expiry_timestamp_seconds') ?? 0;
    assert.ok(svidExpiry > now && svidExpiry <= now + 3600, `SVID expiry is Unix time within the hour (${svidExpiry})`);
    assert.ok(caExpiry > svidExpiry && rootExpiry > caExpiry, 'leaf < intermediate < root');
    assert.ok((metricValue(text, 'meshid_push_latency_seconds_count{api="workload_x509_svid"}') ?? 0) >= 1);
    assert.match(text, /^process_cpu_user_seconds_total /m, 'Node default metrics');
    // No entries file is configured: the gauge is absent rather than a 0 that would fire alerts.
    assert.doesNotMatch(text, /^meshid_entries_file_valid/m);
    assert.doesNotMatch(text, /PRIVATE KEY|BEGIN/);
  });

  it('/debug/svids lists IDs, serials, validity and open streams, never keys', async () => {
    const debug = await get(address, '/debug/svids');
    const { svids } = JSON.parse(debug.body) as { svids: Record<string, unknown>[] };
    assert.equal(svids.length, 1);
    assert.deepEqual(Object.keys(svids[0] ?? {}).sort(), ['notAfter', 'notBefore', 'openStreams', 'rotateAt', 'serial', 'spiffeId']);
    assert.equal(svids[0]?.spiffeId, ROOT_ENTRY.spiffeId);
    assert.equal(svids[0]?.openStreams, 1);
    assert.doesNotMatch(debug.body, /PRIVATE|key/i);
  });
});

describe('graceful stop', () => {
  it('ends open streams with UNAVAILABLE, removes the socket and closes the admin port', async () => {
    const harness = await startTestAgent({ entries: [ROOT_ENTRY] });
    const stream = new StreamReader(workloadClient(harness.socketPath).FetchX509SVID({}, securityHeader()));
    await stream.next();
    const address = harness.agent.adminAddress ?? '';
    await harness.agent.stop();
    await assert.rejects(stream.next(), (error: ServiceError) => {
      assert.equal(error.code, status.UNAVAILABLE);
      assert.match(error.details, /shutting down/);
      return true;
    });
    await assert.rejects(access(harness.socketPath), { code: 'ENOENT' });
    await assert.rejects(fetch(`http://${address}/live`), (error: Error & { cause?: { code?: string } }) => error.message === 'fetch failed' && error.cause?.code === 'ECONNREFUSED', 'the admin port is closed');
  });

  it('meshid run on SIGTERM: streams end UNAVAILABLE, the socket is removed, exit code 0', async () => {
    const dir = await makeTempDir('meshid-sigterm-');
    const socketPath = path.join(dir, 'agent.sock');
    await writeFile(
      path.join(dir, 'meshid.yaml'),
      `trustDomain: example.org\ndataDir: ${dir}/data\nsocketPath: ${socketPath}\nadmin: { listen: "127.0.0.1:0" }\nentries:\n  - spiffeId: ${ROOT_ENTRY.spiffeId}\n    selectors: [unix:uid:0]\n`,
    );
    const agents = new AgentProcesses();
    try {
      const child = await agents.start(path.join(dir, 'meshid.yaml'), socketPath, dir);
      const stream = new StreamReader(workloadClient(socketPath).FetchX509SVID({}, securityHeader()));
      await stream.next();
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      // The agent's "shutting down" status, or, when the process exits before the client read
      // it, grpc-js's own UNAVAILABLE for the dropped connection: either way clients reconnect.
      await assert.rejects(stream.next(), (error: ServiceError) => error.code === status.UNAVAILABLE && /shutting down|Connection dropped/.test(error.details));
      assert.equal(await exited, 0);
      await assert.rejects(access(socketPath), { code: 'ENOENT' });
    } finally {
      await agents.stopAll();
    }
  });
});
