import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { CONFIG_BASE, parseUpstream, upstreamProblems } from '../../support/upstream-config';


const VALID = { type: 'spire', serverAddress: 'spire-server.spire:8081', bootstrapBundleFile: 'bundle.pem', joinTokenFile: 'token', mode: 'downstream' };

test('a spire upstream loads with the pinned keys, paths resolved against the config directory', () => {
  const upstream = parseUpstream(VALID).upstream;
  assert.deepEqual(upstream, {
    type: 'spire',
    serverAddress: 'spire-server.spire:8081',
    bootstrapBundleFile: path.join(CONFIG_BASE, 'bundle.pem'),
    joinTokenFile: path.join(CONFIG_BASE, 'token'),
    mode: 'downstream',
    syncIntervalMs: 5_000, // spire-agent's default sync interval
  });
  assert.ok(Object.isFrozen(upstream));
});

test('mode defaults to downstream; server-signed is accepted; joinTokenFile is optional (later starts reuse the agent SVID)', () => {
  const { mode: _mode, joinTokenFile: _token, ...rest } = VALID;
  const upstream = parseUpstream(rest).upstream;
  assert.equal(upstream.type === 'spire' && upstream.mode, 'downstream');
  assert.equal(upstream.type === 'spire' && upstream.joinTokenFile, undefined);
  const signed = parseUpstream({ ...VALID, mode: 'server-signed', serverAddress: '[::1]:8081' }).upstream;
  assert.equal(signed.type === 'spire' && signed.mode, 'server-signed');
});

test('every missing or wrong spire key is reported at once, by its path', () => {
  const problems = upstreamProblems({ type: 'spire', mode: 'nested', syncInterval: '1ms', tokenFile: 'x' });
  for (const pattern of [
    /^upstream\.serverAddress: is required when upstream\.type is "spire" \(host:port of spire-server/,
    /^upstream\.bootstrapBundleFile: is required when upstream\.type is "spire" \(the server's trust bundle: `spire-server bundle show > bundle\.pem`\)$/,
    /^upstream\.mode: "nested" is not one of downstream, server-signed$/,
    /^upstream\.syncInterval: "1ms" is below the /,
    /^upstream\.tokenFile: unknown key \(known keys: type, serverAddress, bootstrapBundleFile, joinTokenFile, mode, syncInterval, nodeAttestor\)$/,
  ]) {
    assert.ok(problems.some((problem) => pattern.test(problem)), `${pattern} not in:\n${problems.join('\n')}`);
  }
});

test('serverAddress must be host:port', () => {
  for (const bad of ['spire-server', 'https://spire:8081', 'spire:0', 'spire:70000']) {
    assert.deepEqual(upstreamProblems({ ...VALID, serverAddress: bad }), [`upstream.serverAddress: "${bad}" is not host:port (e.g. spire-server.spire:8081 or 127.0.0.1:8081)`]);
  }
});

test('nodeAttestor k8s_psat: cluster required, the token file defaults to where spire-agent reads it; not together with joinTokenFile', () => {
  const { joinTokenFile: _token, ...rest } = VALID;
  const upstream = parseUpstream({ ...rest, nodeAttestor: { type: 'k8s_psat', cluster: 'prod' } }).upstream;
  assert.deepEqual(upstream.type === 'spire' && upstream.nodeAttestor, { type: 'k8s_psat', cluster: 'prod', tokenFile: '/var/run/secrets/tokens/spire-agent' });
  assert.deepEqual(upstreamProblems({ ...VALID, nodeAttestor: { type: 'k8s_psat', cluster: 'prod' } }), ['upstream: set joinTokenFile or nodeAttestor, not both: they are two ways to attest the node']);
  assert.deepEqual(upstreamProblems({ ...rest, nodeAttestor: { type: 'k8s_psat' } }), ['upstream.nodeAttestor.cluster: is required']);
  assert.deepEqual(upstreamProblems({ ...rest, nodeAttestor: { type: 'x509pop', cluster: 'prod' } }), ['upstream.nodeAttestor.type: "x509pop" is not a supported node attestor (k8s_psat; join tokens use joinTokenFile)']);
});
