import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startTestAgent, type Harness } from '../support/agent-harness';
import { pemBlocks } from '../support/pem';
import { removeTempDirs } from '../support/temp-dir';
import { needs } from '../support/tools';
import { assertReadableBy, NOT_ROOT } from '../support/workload-process';
import { requireVenvPython, runPeer, workloadEnv, type PeerEvent } from './support/peer-process';

const TD = 'spiffe://example.org';
const PY = { uid: 1211, id: 'spiffe://example.org/py-workload' };
const PEER_SCRIPT = path.join(__dirname, '..', '..', '..', 'test', 'interop', 'py-peer', 'peer.py');

// issue 10 item 8: py-spiffe 0.3.2 (the PyPI `spiffe` package, in the peers' venv) as a real
// workload under its own uid, finding the agent through SPIFFE_ENDPOINT_SOCKET.
describe('py-spiffe workload against a real agent', { skip: NOT_ROOT || needs('py-spiffe') }, () => {
  let harness: Harness;
  let python: string;
  const run = async (args: string[]): Promise<PeerEvent> => {
    const result = await runPeer(PY.uid, python, [PEER_SCRIPT, ...args], workloadEnv(harness.socketPath));
    assert.equal(result.code, 0, result.describe());
    const [event] = result.events;
    assert.ok(event && event.event !== 'error', result.describe());
    return event;
  };

  before(async () => {
    python = await requireVenvPython(PY.uid);
    await assertReadableBy(PY.uid, [PEER_SCRIPT]);
    // svid.ttl at its minimum, so X509Source sees rotations within seconds.
    harness = await startTestAgent({ svid: { ttl: '10s' }, entries: [{ spiffeId: PY.id, selectors: [`unix:uid:${PY.uid}`] }] });
  });
  after(async () => {
    await harness?.agent.stop();
    await removeTempDirs();
  });

  test('X.509 context: the SVID, its chain up to the bundle, X509Source, and FetchX509Bundles', async () => {
    const x509 = await run(['x509']);
    const upstreamRoot = await readFile(path.join(harness.dir, 'data', 'upstream-ca.pem'), 'utf8');
    const roots = pemBlocks(upstreamRoot).map((pem) => new X509Certificate(pem).fingerprint256.replaceAll(':', '').toLowerCase()).sort();
    assert.equal(x509.spiffeId, PY.id);
    assert.deepEqual(x509.svidIds, [PY.id]);
    assert.equal(x509.chainLength, 2, 'leaf + node intermediate');
    assert.equal(x509.chainAnchored, true, 'the chain verifies up to a root of the context\'s bundle');
    assert.deepEqual(x509.contextBundles, { [TD]: roots });
    assert.equal(x509.sourceSpiffeId, PY.id, 'X509Source got the SVID from its stream');
    assert.deepEqual(x509.fetchedBundles, { [TD]: roots }, 'FetchX509Bundles (standard field numbers) returns the trust domain bundle');
  });

  test('JWT-SVID: fetched, validated locally against the JWT bundle and by the agent; another audience refused by both', async () => {
    const jwt = await run(['jwt', 'vault']);
    assert.equal(jwt.spiffeId, PY.id);
    assert.deepEqual(jwt.audience, ['vault']);
    assert.equal(jwt.localValidatedId, PY.id, 'JwtSvid.parse_and_validate with FetchJWTBundles\' bundle');
    assert.equal(jwt.agentValidatedId, PY.id, 'ValidateJWTSVID');
    const header = JSON.parse(Buffer.from(String(jwt.token).split('.')[0] ?? '', 'base64url').toString()) as { kid: string };
    assert.ok((jwt.bundleKeyIds as string[]).includes(header.kid), 'the signing key is in the bundle py-spiffe parsed');
    const refused = jwt.wrongAudienceRefused as Record<string, string>;
    assert.match(refused.local ?? '', /audience/i, JSON.stringify(refused));
    assert.match(refused.agent ?? '', /INVALID_ARGUMENT/, JSON.stringify(refused));
  });

  test('X509Source follows rotations pushed on its stream', async () => {
    const watched = await run(['watch', '3']);
    assert.equal(watched.complete, true, JSON.stringify(watched));
    assert.equal((watched.serials as string[]).length, 3, 'the first SVID and two rotated ones');
  });
});
